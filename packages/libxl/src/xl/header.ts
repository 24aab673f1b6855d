import { ByteWriter, MalformedError, RefusedError, type StreamReader, TruncatedError, WireError, hex } from "@vmstream/framing";
import { XL_BYTEORDER, XL_MAGIC } from "@vmstream/wire-spec";
import { le32 } from "../libxc/bytes.js";

export const XL_FLAG_JSON = 1;
export const XL_FLAG_STREAMV2 = 2;
const KNOWN = XL_FLAG_JSON | XL_FLAG_STREAMV2;

/**
 * The xl save-file header and its optional data. `config` holds the config
 * bytes exactly as stored (xl writes JSON text plus a NUL, counted in its
 * length); `extra` is any optional data after the config, which xl skips.
 */
export interface XlHeader {
  mandatoryFlags: number;
  optionalFlags: number;
  /** Null when there is no optional data at all. */
  config: Uint8Array | null;
  extra: Uint8Array;
}

const MAGIC = Uint8Array.from(XL_MAGIC, (c) => c.charCodeAt(0));

export const hasXlMagic = (head: Uint8Array): boolean => head.byteLength >= 32 && MAGIC.every((c, i) => head[i] === c);

/** Flags as the saver wrote them (native order, told by the byteorder word). */
export function xlFlags(head: Uint8Array): number | null {
  if (!hasXlMagic(head) || head.byteLength < 48) return null;
  const le = head[32] === 0x04;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return v.getUint32(36, le);
}

/** The fixed 48 bytes of an xl save file: magic, byte order, flags, then the optional data's length. */
export const XL_HEADER_SIZE = 48;

export interface XlFixedHeader {
  byteorder: number;
  mandatoryFlags: number;
  optionalFlags: number;
  /** Bytes of optional data (config length + config + extra) after the fixed header. */
  optionalLength: number;
}

/**
 * Read the fixed header, refusing what xl refuses whatever the payload: a
 * bad magic, a foreign byte order, unknown mandatory flags. Whether the
 * payload is a v2 stream (STREAMv2 set) or a legacy image is the caller's.
 */
export async function readXlFixedHeader(r: StreamReader): Promise<XlFixedHeader> {
  const at = r.offset;
  if (r.buffered < XL_HEADER_SIZE && !(await r.fill(XL_HEADER_SIZE))) throw new TruncatedError("xl header", at, XL_HEADER_SIZE, r.buffered);
  const b = r.take(XL_HEADER_SIZE);
  if (!hasXlMagic(b)) throw new WireError("BAD_MAGIC", "not an xl save file", at, { path: "xl.magic", expected: JSON.stringify(XL_MAGIC) });
  const byteorder = le32(b, 32);
  if (byteorder !== XL_BYTEORDER) {
    throw new MalformedError("the saver's byte order differs from this (little-endian x86) one; xl refuses the file", at + 32, {
      path: "xl.byteorder",
      expected: hex(XL_BYTEORDER),
      found: hex(byteorder),
    });
  }
  const mandatoryFlags = le32(b, 36);
  if (mandatoryFlags & ~KNOWN) {
    throw new WireError("RESERVED_BITS", "unknown mandatory flags: xl refuses the file", at + 36, { path: "xl.mandatory_flags", found: hex(mandatoryFlags & ~KNOWN) });
  }
  return { byteorder, mandatoryFlags, optionalFlags: le32(b, 40), optionalLength: le32(b, 44) };
}

export async function readXlHeader(r: StreamReader, notes: string[]): Promise<XlHeader> {
  const at = r.offset;
  const { mandatoryFlags, optionalFlags, optionalLength: optLen } = await readXlFixedHeader(r);
  if (!(mandatoryFlags & XL_FLAG_STREAMV2)) {
    throw new RefusedError("this xl file carries a legacy (pre-4.6) stream (STREAMv2 flag clear): read it as the legacy family", at + 36, {
      path: "xl.mandatory_flags",
    });
  }
  if (optionalFlags) notes.push(`xl optional flags ${hex(optionalFlags)} set (none are defined)`);
  let config: Uint8Array | null = null;
  let extra = new Uint8Array(0);
  if (optLen) {
    if (optLen < 4) throw new MalformedError("xl optional data too short to hold the config length", at + 44, { path: "xl.optional_data_len", expected: "0 or at least 4", found: String(optLen) });
    await r.need(optLen, "xl optional data");
    const d = r.take(optLen);
    const clen = le32(d, 0);
    if (clen > optLen - 4) {
      throw new MalformedError("config length exceeds the optional data", at + 48, { path: "xl.config_len", expected: `at most ${optLen - 4}`, found: String(clen) });
    }
    config = d.slice(4, 4 + clen);
    extra = d.slice(4 + clen);
    if (extra.byteLength) notes.push(`${extra.byteLength} byte(s) of optional data after the config (skipped by xl)`);
    if (mandatoryFlags & XL_FLAG_JSON && clen) {
      const text = configText(config);
      let ok = text !== null;
      if (ok) {
        try {
          JSON.parse(text!);
        } catch {
          ok = false;
        }
      }
      if (!ok) throw new MalformedError("the JSON flag is set but the config is not NUL-terminated JSON text", at + 52, { path: "xl.config" });
    }
  }
  return { mandatoryFlags, optionalFlags, config, extra };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The config as text when it is UTF-8 ending in exactly one NUL (how xl writes it), else null. */
export function configText(c: Uint8Array): string | null {
  if (c.byteLength === 0 || c[c.byteLength - 1] !== 0 || c.indexOf(0) !== c.byteLength - 1) return null;
  try {
    return utf8.decode(c.subarray(0, -1));
  } catch {
    return null;
  }
}

/** Append the fixed header; its optional data (optionalLength bytes) is the caller's to write next. */
export function writeXlFixedHeader(w: ByteWriter, h: Omit<XlFixedHeader, "byteorder"> & { byteorder?: number }): ByteWriter {
  return w.bytes(MAGIC).u32le(h.byteorder ?? XL_BYTEORDER).u32le(h.mandatoryFlags >>> 0).u32le(h.optionalFlags >>> 0).u32le(h.optionalLength);
}

export function writeXlHeader(w: ByteWriter, h: XlHeader): ByteWriter {
  const optLen = h.config === null ? 0 : 4 + h.config.byteLength + h.extra.byteLength;
  if (h.config === null && h.extra.byteLength) throw new MalformedError("xl optional data after the config needs a config (possibly empty)", 0);
  writeXlFixedHeader(w, { mandatoryFlags: h.mandatoryFlags, optionalFlags: h.optionalFlags, optionalLength: optLen });
  if (h.config !== null) w.u32le(h.config.byteLength).bytes(h.config).bytes(h.extra);
  return w;
}

/** What `xl save` writes: STREAMv2, and JSON plus the NUL-terminated config when there is one. */
export function xlSaveHeader(configJson: string | null): XlHeader {
  const config = configJson === null ? new Uint8Array(0) : new TextEncoder().encode(`${configJson}\0`);
  return { mandatoryFlags: XL_FLAG_STREAMV2 | (config.byteLength ? XL_FLAG_JSON : 0), optionalFlags: 0, config, extra: new Uint8Array(0) };
}

export const xlHeaderBytes = (h: XlHeader): Uint8Array => writeXlHeader(new ByteWriter(64), h).finish().slice();
