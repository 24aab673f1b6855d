import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FileWriter } from "./file-writer.mjs";
import { prng } from "./prng.mjs";

/**
 * A QEMU 7.2 `pc` migration stream whose `pc.ram` block holds `ramBytes` of
 * random pages. The device sections, EOF and vmdesc trailer are taken verbatim
 * from a real QEMU stream (a repository sample), so every decoder and
 * analyze-migration.py see genuine device state; only the RAM sections are
 * rebuilt (QEMU_VM_SECTION_START with the block list, one PART with every
 * page as RAM_SAVE_FLAG_PAGE, as a running guest's first pass writes them).
 * Layout per research/qemu.md §2–3.
 */
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const QEMU_TEMPLATES = ["fixtures/qemu/pc-7.2-stopped.mig"];

export function qemuTemplate() {
  for (const p of QEMU_TEMPLATES) if (existsSync(REPO + p)) return REPO + p;
  return null;
}

const PAGE = 4096;
const F_ZERO = 0x02;
const F_MEM_SIZE = 0x04;
const F_PAGE = 0x08;
const F_EOS = 0x10;
const F_CONTINUE = 0x20;

/** Walk the template far enough to know where the RAM sections are. */
function parseTemplate(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  if (dv.getUint32(0) !== 0x5145564d || dv.getUint32(4) !== 3) throw new Error("template is not a QEMU v3 stream");
  if (b[p] === 0x07) {
    p += 1 + 4 + dv.getUint32(p + 1);
    if (b[p] === 0x05) throw new Error("template has configuration subsections; use a plain one");
  }
  const configEnd = p;
  let ramId = -1;
  let startHeader = null;
  let blocks = null;
  /** Parse a RAM payload at p; returns the offset after EOS. */
  const ramPayload = (collect) => {
    for (;;) {
      const hi = dv.getUint32(p);
      const lo = dv.getUint32(p + 4);
      p += 8;
      const flags = lo & (PAGE - 1);
      if (flags & (F_ZERO | F_PAGE) && !(flags & F_CONTINUE)) p += 1 + b[p];
      const kind = flags & ~F_CONTINUE;
      if (kind === F_EOS) return;
      if (kind === F_MEM_SIZE) {
        let total = hi * 2 ** 32 + (lo - flags);
        const list = [];
        while (total > 0) {
          const name = new TextDecoder().decode(b.subarray(p + 1, p + 1 + b[p]));
          p += 1 + b[p];
          const used = dv.getUint32(p) * 2 ** 32 + dv.getUint32(p + 4);
          p += 8;
          list.push({ name, used });
          total -= used;
        }
        if (collect) blocks = list;
      } else if (kind === F_ZERO) p += 1;
      else if (kind === F_PAGE) p += PAGE;
      else throw new Error(`template RAM flags 0x${flags.toString(16)} not handled`);
    }
  };
  for (;;) {
    const type = b[p];
    const at = p;
    if (type === 0x01 || type === 0x04) {
      const id = dv.getUint32(p + 1);
      const idlen = b[p + 5];
      const name = new TextDecoder().decode(b.subarray(p + 6, p + 6 + idlen));
      if (name !== "ram") return { configEnd, ramId, startHeader, blocks, restStart: at };
      p += 6 + idlen + 8;
      ramId = id;
      startHeader = b.subarray(at, p);
      ramPayload(true);
    } else if ((type === 0x02 || type === 0x03) && dv.getUint32(p + 1) === ramId) {
      // END (0x03) is copied with the rest when it is only EOS; PARTs are dropped.
      if (type === 0x03) return { configEnd, ramId, startHeader, blocks, restStart: at };
      p += 5;
      ramPayload(false);
    } else {
      return { configEnd, ramId, startHeader, blocks, restStart: at };
    }
    if (b[p] !== 0x7e) throw new Error("template without section footers");
    p += 5;
  }
}

export function generateQemu(path, ramBytes, template = qemuTemplate()) {
  if (!template) throw new Error("no QEMU template stream in this checkout");
  const b = new Uint8Array(readFileSync(template));
  const t = parseTemplate(b);
  if (!t.blocks?.some((x) => x.name === "pc.ram")) throw new Error("template has no pc.ram block");
  const out = new FileWriter(path);
  out.bytes(b.subarray(0, t.configEnd));
  // START: the block list with pc.ram resized.
  out.bytes(t.startHeader);
  const blocks = t.blocks.map((x) => (x.name === "pc.ram" ? { ...x, used: ramBytes } : x));
  const total = blocks.reduce((s, x) => s + x.used, 0);
  out.u64(total + F_MEM_SIZE, false);
  const enc = new TextEncoder();
  for (const x of blocks) {
    const n = enc.encode(x.name);
    out.u8(n.byteLength);
    out.bytes(n);
    out.u64(x.used, false);
  }
  out.u64(F_EOS, false);
  out.u8(0x7e);
  out.u32(t.ramId, false);
  // One PART with every page of pc.ram, random contents.
  out.u8(0x02);
  out.u32(t.ramId, false);
  const pool = prng(0x5eed).fill(new Uint8Array(4096 * PAGE));
  const name = enc.encode("pc.ram");
  for (let i = 0, addr = 0; addr < ramBytes; i++, addr += PAGE) {
    out.u64(addr + F_PAGE + (i ? F_CONTINUE : 0), false);
    if (!i) {
      out.u8(name.byteLength);
      out.bytes(name);
    }
    const k = ((i * 2654435761) >>> 0) & 4095;
    out.bytes(pool.subarray(k * PAGE, (k + 1) * PAGE));
  }
  out.u64(F_EOS, false);
  out.u8(0x7e);
  out.u32(t.ramId, false);
  // RAM END, device sections, EOF and vmdesc as QEMU wrote them.
  out.bytes(b.subarray(t.restStart));
  return { size: out.close() };
}
