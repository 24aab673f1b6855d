import { MalformedError, RefusedError, TruncatedError, hex, type CodecOptions } from "@vmstream/framing";
import { XL_FLAG_JSON, XL_FLAG_STREAMV2, XL_HEADER_SIZE, hasXlMagic } from "@vmstream/libxl";
import { LEGACY_CHUNK_MIN, LEGACY_EXT_BLOCKS, LEGACY_MAX_BATCH } from "@vmstream/wire-spec";

export type Width = 32 | 64;
export type Guest = "pv" | "hvm";

/** What the first bytes of a legacy image say about how it was saved. */
export interface Sniffed {
  width: Width;
  guest: Guest;
  /**
   * False only when both widths could have produced these bytes (a 32-bit HVM
   * image whose body is empty looks like a 64-bit one); a width flag then decides.
   */
  widthSure: boolean;
}

const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const i32 = (b: Uint8Array, at: number): number => u32(b, at) | 0;
const ascii = (b: Uint8Array, at: number, n: number): string => String.fromCharCode(...b.subarray(at, at + n));

/** A first body chunk a 32-bit HVM image may start with: a known negative id or a batch count. */
const firstChunkOk = (id: number): boolean => (id >= LEGACY_CHUNK_MIN && id < 0) || (id > 0 && id <= LEGACY_MAX_BATCH);
const isExtBlockId = (b: Uint8Array, at: number): boolean =>
  b.length >= at + 4 && (LEGACY_EXT_BLOCKS as readonly string[]).includes(ascii(b, at, 4));
const allOnes = (b: Uint8Array, at: number, n: number): boolean => {
  for (let i = at; i < at + n; i++) if (b[i] !== 0xff) return false;
  return true;
};

/**
 * Xen's HVM save blob always opens with its HEADER descriptor (code 1,
 * instance 0, 24 bytes) and magic 0x54381286; in a 32-bit image with an
 * empty body that blob starts at octet 36 (p2m_size, end chunk, three magic
 * pfns, context length).
 */
const hvmContextAt = (b: Uint8Array, at: number): boolean =>
  b.length >= at + 12 && u32(b, at) === 1 && u32(b, at + 4) === 24 && u32(b, at + 8) === 0x5438_1286;

/**
 * Other families' openings that a permissive reading of octets 4–7 might
 * mistake for legacy: QEMU "QEVM", libxc (all-ones marker), libxl "LibxlFmt",
 * domain context v2 ("SAVE" big-endian) and v1 (HEADER descriptor + "EVAS").
 */
function foreign(b: Uint8Array): boolean {
  const head4 = ascii(b, 0, 4);
  if (head4 === "QEVM" || head4 === "SAVE") return true;
  if (allOnes(b, 0, 8)) return true;
  if (b.length >= 8 && ascii(b, 0, 8) === "LibxlFmt") return true;
  if (b.length >= 12 && u32(b, 0) === 1 && u32(b, 4) === 12 && ascii(b, 8, 4) === "EVAS") return true;
  return false;
}

/**
 * Read width and guest type from the first bytes of a legacy image (no xl
 * header), following Xen's rule: octets 4–7 are the high half of a 64-bit
 * p2m_size (zero), or in a 32-bit image the extended-info signature (PV,
 * all ones) or the first body chunk (HVM). Null when the bytes are not a
 * legacy image's opening.
 */
export function sniffLegacy(b: Uint8Array): Sniffed | null {
  if (b.length < 8 || foreign(b)) return null;
  const p2m32 = u32(b, 0);
  const w4 = u32(b, 4);
  if (w4 === 0xffff_ffff) {
    if (p2m32 === 0) return null;
    // The signature, or (HVM) a first enable_verify_mode chunk: a PV image names an extended-info block next.
    return { width: 32, guest: isExtBlockId(b, 12) || b.length < 16 ? "pv" : "hvm", widthSure: true };
  }
  if (w4 !== 0) {
    if (p2m32 === 0 || !firstChunkOk(w4 | 0)) return null;
    return { width: 32, guest: "hvm", widthSure: true };
  }
  // w4 = 0: a 64-bit p2m_size, or a 32-bit HVM image whose first chunk ends the body.
  if (p2m32 === 0) return null;
  const pv64 = b.length >= 16 && allOnes(b, 8, 8) && (b.length < 24 || isExtBlockId(b, 20));
  // A 64-bit image whose body is empty has its HVM context at octet 40 (p2m_size, end chunk, pfns, length).
  const ok64 = pv64 || b.length < 12 || firstChunkOk(i32(b, 8)) || (i32(b, 8) === 0 && (b.length < 52 || hvmContextAt(b, 40)));
  const empty32 = hvmContextAt(b, 36);
  if (empty32) return { width: 32, guest: "hvm", widthSure: !ok64 };
  if (!ok64) return null;
  return { width: 64, guest: pv64 ? "pv" : "hvm", widthSure: true };
}

/** The xl header fields that matter before the payload. */
export interface XlPrefix {
  mandatoryFlags: number;
  optionalDataLength: number;
}

/** Parse an xl header at the start of `b` (little-endian saver), or null if `b` has no xl magic. */
export function peekXl(b: Uint8Array): XlPrefix | null {
  if (!hasXlMagic(b) || b.length < XL_HEADER_SIZE) return null;
  if (u32(b, 32) !== 0x0102_0304) return null;
  return { mandatoryFlags: u32(b, 36), optionalDataLength: u32(b, 44) };
}

/**
 * `detect` for the family: a bare legacy image, or an xl file whose STREAMv2
 * flag is clear. When an xl file's payload lies beyond the head, 64 is the
 * guess (the reader then decides from the payload itself).
 */
export function detectLegacy(head: Uint8Array): "32" | "64" | null {
  if (hasXlMagic(head)) {
    const xl = peekXl(head);
    if (!xl || xl.mandatoryFlags & XL_FLAG_STREAMV2 || xl.mandatoryFlags & ~(XL_FLAG_JSON | XL_FLAG_STREAMV2)) return null;
    const at = XL_HEADER_SIZE + xl.optionalDataLength;
    if (head.length < at + 8) return "64";
    const s = sniffLegacy(head.subarray(at));
    return s ? (String(s.width) as "32" | "64") : null;
  }
  const s = sniffLegacy(head);
  return s ? (String(s.width) as "32" | "64") : null;
}

/**
 * Settle width and guest type from the bytes, the version the caller named
 * and the flags. The bytes win when they are unambiguous; a flag that
 * contradicts them is refused rather than producing garbage.
 */
export function resolveShape(head: Uint8Array, base: number, version: string, opts: CodecOptions): { width: Width; guest: Guest } {
  if (head.length < 8) throw new TruncatedError("legacy image header", base, 8, head.length);
  const s = sniffLegacy(head);
  if (!s) {
    throw new MalformedError("not a legacy Xen image", base + 4, {
      expected: "octets 4–7: 0 (64-bit p2m_size), 0xffffffff (32-bit PV) or a chunk id (32-bit HVM)",
      found: head.length >= 8 ? hex(u32(head, 4), 8) : `${head.length} bytes`,
    });
  }
  let width = s.width;
  const flag = opts.width;
  if (flag !== undefined && flag !== s.width) {
    if (s.widthSure) {
      throw new RefusedError(
        `the image was saved by a ${s.width}-bit toolstack (octets 4–7 = ${hex(u32(head, 4), 8)}), not ${flag}-bit as requested`,
        base + 4,
        { expected: `width ${s.width}`, found: `width ${flag}` },
      );
    }
    width = flag;
  }
  // `version` (detected, or a bare --format) never overrides the bytes: only an explicit width flag does.
  void version;
  const guest = width === s.width ? s.guest : "hvm";
  if (opts.guest !== undefined && opts.guest !== guest) {
    throw new RefusedError(
      guest === "pv"
        ? "the image is a PV guest's (it opens with the extended-info signature and blocks), not an HVM guest's as requested"
        : "the image is an HVM guest's (no PV extended-info signature after p2m_size), not a PV guest's as requested",
      base + width / 8,
      { expected: `guest ${guest}`, found: `guest ${opts.guest}` },
    );
  }
  return { width, guest };
}
