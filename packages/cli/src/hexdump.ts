// Synchronous: node:fs/promises loads Node's stream modules, which no verdict needs (start-up).
import { closeSync, openSync, readSync } from "node:fs";

const ROW = 16;

/**
 * The bytes around a fault, as `hexdump -C` would show them, with the faulty
 * byte in brackets: what a person reaches for next after the error line.
 * Reads 32 bytes of a regular file; returns "" for pipes or unreadable files.
 */
export async function faultContext(path: string, offset: number, size: number | undefined, mark: (s: string) => string = (s) => s): Promise<string> {
  if (path === "-" || size === undefined || size === 0) return "";
  const start = Math.max(0, Math.min(Math.floor(offset / ROW) * ROW - ROW, Math.floor((size - 1) / ROW) * ROW - ROW));
  const buf = new Uint8Array(Math.min(2 * ROW, size - start));
  try {
    const fd = openSync(path, "r");
    try {
      readSync(fd, buf, 0, buf.byteLength, start);
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
  const lines: string[] = [];
  for (let r = 0; r < buf.byteLength; r += ROW) {
    let hex = "";
    let text = "";
    let eat = false; // the bracket after a marked byte takes the next separator's first space
    for (let i = 0; i < ROW; i++) {
      const at = start + r + i;
      const b = buf[r + i];
      const h = b === undefined ? "  " : b.toString(16).padStart(2, "0");
      const c = b === undefined ? " " : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
      let sep = i === 8 ? "  " : " ";
      if (eat) sep = sep.slice(1);
      eat = at === offset && b !== undefined;
      hex += eat ? `${sep.slice(1)}${mark(`[${h}]`)}` : `${sep}${h}`;
      text += eat ? mark(c) : c;
    }
    lines.push(`  ${(start + r).toString(16).padStart(8, "0")} ${hex}${eat ? "" : " "} |${text}|`);
  }
  if (offset >= size) lines.push(`  ${offset.toString(16).padStart(8, "0")}  (end of file: the stream stops here)`);
  return lines.join("\n");
}
