import type { FamilyCodec } from "@vmstream/framing";
import { CONTEXT_MAGIC, LIBXC_ID, LIBXL_IDENT, QEMU_VM_FILE_MAGIC, XL_MAGIC } from "@vmstream/wire-spec";

/**
 * One entry per family, in detection order: how to load its codec, and a
 * sniff — a cheap test on the wire spec's magic that is true for every head
 * the codec's own `detect` accepts (and maybe more). The sniff only decides
 * which codecs are worth loading; the answer is always the codec's `detect`.
 * Formats with a magic come first; `legacy` is last because a legacy image
 * has no magic and is recognised by elimination (an xl header without the
 * STREAMv2 flag is legacy too).
 */
export interface CodecEntry {
  family: string;
  sniff(head: Uint8Array): boolean;
  /** Imports only the package (or entry point) that holds the codec. */
  load(): Promise<FamilyCodec>;
}

const u32 = (h: Uint8Array, at: number, littleEndian: boolean): number | undefined =>
  h.length < at + 4 ? undefined : new DataView(h.buffer, h.byteOffset + at, 4).getUint32(0, littleEndian);
const textAt0 = (h: Uint8Array, text: string): boolean => {
  if (h.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (h[i] !== text.charCodeAt(i)) return false;
  return true;
};
/** "LibxlFmt": the wire spec gives the ident as a big-endian u64. */
const LIBXL_TEXT = String.fromCharCode(...Array.from({ length: 8 }, (_, i) => Number((LIBXL_IDENT >> BigInt(56 - 8 * i)) & 0xffn)));

export const CODECS: readonly CodecEntry[] = [
  {
    family: "context",
    // v2: big-endian magic first; v1: a HEADER descriptor whose body starts with the little-endian magic.
    sniff: (h) => u32(h, 0, false) === CONTEXT_MAGIC || u32(h, 8, true) === CONTEXT_MAGIC,
    // Its own entry point skips the other Xen formats' modules.
    load: async () => (await import("@vmstream/libxl/context")).contextCodec,
  },
  { family: "qemu", sniff: (h) => u32(h, 0, false) === QEMU_VM_FILE_MAGIC, load: async () => (await import("@vmstream/vmstate")).qemuCodec },
  { family: "libxc", sniff: (h) => u32(h, 8, false) === LIBXC_ID, load: async () => (await import("@vmstream/libxl")).libxcCodec },
  { family: "libxl", sniff: (h) => textAt0(h, LIBXL_TEXT), load: async () => (await import("@vmstream/libxl")).libxlCodec },
  { family: "xl", sniff: (h) => textAt0(h, XL_MAGIC), load: async () => (await import("@vmstream/libxl")).xlCodec },
  { family: "legacy", sniff: () => true, load: async () => (await import("@vmstream/legacy")).legacyCodec },
];
