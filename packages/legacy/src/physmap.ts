import { MalformedError, hex } from "@vmstream/framing";
import type { Width } from "./shape.js";

/** One QEMU physmap entry of libxl's version-1 "toolstack" blob. */
export interface PhysmapEntry {
  physOffset: bigint;
  startAddr: bigint;
  size: bigint;
  /** The name without its NUL. */
  name: Uint8Array;
}

/** Toolstack blobs are a few hundred bytes; anything near this is not libxl's. */
export const MAX_TOOLSTACK_BLOB = 16 << 20;

/**
 * Parse libxl's version-1 toolstack blob. A 64-bit libxl advanced past each
 * entry by sizeof(struct) + namelen, and its struct had 4 bytes of tail
 * padding, so its names are followed by 4 stray bytes; a 32-bit libxl's are not.
 * `base` is the blob's absolute offset, for error offsets.
 */
export function parsePhysmap(blob: Uint8Array, width: Width, base: number): PhysmapEntry[] {
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < 8) throw new MalformedError("toolstack blob shorter than its 8-byte header", base, { found: `${blob.length} bytes` });
  const version = dv.getUint32(0, true);
  if (version !== 1) throw new MalformedError("unknown libxl toolstack blob version", base, { expected: "1", found: String(version) });
  const count = dv.getUint32(4, true);
  const stray = width === 64 ? 4 : 0;
  // Each entry takes at least 28 + 1 (+ stray) bytes; a count beyond that is refused before the loop.
  if (count > (blob.length - 8) / (29 + stray)) {
    throw new MalformedError(`physmap count ${count} does not fit the ${blob.length}-byte blob`, base + 4);
  }
  const out: PhysmapEntry[] = [];
  let p = 8;
  for (let i = 0; i < count; i++) {
    const path = `physmap[${i}]`;
    if (blob.length - p < 28) throw new MalformedError("physmap entry header overruns the blob", base + p, { path });
    const physOffset = dv.getBigUint64(p, true);
    const startAddr = dv.getBigUint64(p + 8, true);
    const size = dv.getBigUint64(p + 16, true);
    const namelen = dv.getUint32(p + 24, true);
    p += 28;
    if (namelen === 0) throw new MalformedError("physmap entry without a name", base + p - 4, { path });
    if (namelen + stray > blob.length - p) {
      throw new MalformedError("physmap name overruns the blob", base + p - 4, { path, expected: `at most ${blob.length - p - stray}`, found: String(namelen) });
    }
    const name = blob.subarray(p, p + namelen - 1);
    if (blob[p + namelen - 1] !== 0) throw new MalformedError("physmap name is not NUL-terminated", base + p + namelen - 1, { path });
    const nul = name.indexOf(0);
    if (nul >= 0) throw new MalformedError("NUL inside a physmap name", base + p + nul, { path });
    p += namelen + stray;
    out.push({ physOffset, startAddr, size, name });
  }
  if (p !== blob.length) throw new MalformedError(`${blob.length - p} bytes after the last physmap entry`, base + p);
  return out;
}

/** The EMULATOR_XENSTORE_DATA pairs convert-legacy-stream derives from one entry (lower-case hex, no 0x). */
export function physmapPairs(e: PhysmapEntry): [string, Uint8Array][] {
  const root = `physmap/${e.physOffset.toString(16)}`;
  const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  return [
    [`${root}/start_addr`, enc(e.startAddr.toString(16))],
    [`${root}/size`, enc(e.size.toString(16))],
    [`${root}/name`, e.name],
  ];
}

export const describePhysmap = (e: PhysmapEntry) => ({
  phys_offset: hex(e.physOffset),
  start_addr: hex(e.startAddr),
  size: hex(e.size),
  name: new TextDecoder().decode(e.name),
});
