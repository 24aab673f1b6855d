import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextDescriptorBytes, contextHeaderBytes } from "@vmstream/libxl";
import { describe, expect, it } from "vitest";
import { BIN } from "./run.js";

/*
 * Standard input from a real pipe (not the socket pair Node's spawn makes):
 * past the first 256 KiB, vmstream asks the kernel for a 1 MiB pipe buffer. The
 * shell keeps the pipe open after vmstream exits, so perl can read its size
 * back (F_GETPIPE_SZ = 1032) from the same descriptor, once the fire-and-forget
 * resize has had time to land.
 */
const hasPerl = (() => {
  try {
    execFileSync("perl", ["-e", "1"]);
    return true;
  } catch {
    return false;
  }
})();

/** A context stream of about `size` bytes in records of up to 64 KiB, every byte position-dependent. */
function contextStream(size: number): string {
  const h = { version: 2 as const, xenMajor: 4, xenMinor: 17, bigEndian: false };
  const parts: Uint8Array[] = [contextHeaderBytes(h)];
  let at = 16;
  for (let i = 0; at < size; i++) {
    const n = Math.min(64 << 10, size - at) & ~7;
    const body = Uint8Array.from({ length: n }, (_, k) => (at + k * 7 + i) & 255);
    parts.push(contextDescriptorBytes(h, 7, i, n), body);
    at += 16 + n;
    if (n === 0) break;
  }
  parts.push(contextDescriptorBytes(h, 0, 0, 0));
  const path = join(mkdtempSync(join(tmpdir(), "pipe-")), "s.ctx");
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

const sizeAfter = (file: string, env: NodeJS.ProcessEnv) =>
  execFileSync(
    "sh",
    ["-c", `cat "$1" | { "$2" "$3" verify - >/dev/null && sleep 0.5 && perl -e 'print fcntl(STDIN, 1032, 0)'; }`, "sh", file, process.execPath, BIN],
    { env: { ...process.env, ...env }, encoding: "utf8" },
  ).trim();

describe("standard input from a pipe", () => {
  // Around the point where the reader thread boots and takes the pipe over from the main thread.
  it.each([0, 100 << 10, 256 << 10, (256 << 10) + 24, 300 << 10, 2 << 20, 9 << 20])("recodes a %i-byte stream byte for byte", (size) => {
    const file = contextStream(size);
    const out = execFileSync("sh", ["-c", `cat "$1" | "$2" "$3" recode - -`, "sh", file, process.execPath, BIN], { maxBuffer: 64 << 20 });
    expect(Buffer.compare(out, readFileSync(file))).toBe(0);
  });
});

const noResize = process.platform !== "linux" ? `not Linux (${process.platform})` : !hasPerl ? "no perl on this machine" : null;
if (noResize) console.warn(`cli pipe: skipping the pipe-resize test: ${noResize} (vmstream then keeps the 64 KiB pipe)`);
describe.skipIf(noResize !== null)("a long pipe", () => {
  it("grows the pipe to 1 MiB for a long stream, and leaves it alone when told", () => {
    const file = contextStream(3 << 20);
    expect(sizeAfter(file, {})).toBe(String(1 << 20));
    expect(sizeAfter(file, { VMSTREAM_PIPE_SIZE: "0" })).toBe(String(64 << 10));
  });
});
