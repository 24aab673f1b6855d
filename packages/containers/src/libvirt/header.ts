import { ByteReader, ByteWriter, MalformedError, RefusedError, WireError } from "@vmstream/framing";
import {
  LIBVIRT_SAVE_COMPRESSIONS,
  LIBVIRT_SAVE_HEADER_SIZE,
  LIBVIRT_SAVE_MAGIC,
  LIBVIRT_SAVE_PARTIAL,
  LIBVIRT_SAVE_VERSION,
} from "@vmstream/wire-spec";

export type SaveCompression = "raw" | "gzip" | "bzip2" | "xz" | "lzop";

export interface SaveHeader {
  /** `LibvirtQemudPart`: libvirt had not finished writing the image (or the save failed). */
  partial: boolean;
  version: number;
  dataLen: number;
  wasRunning: number;
  compressed: number;
  cookieOffset: number;
  /** Offset of the first non-zero byte of the 14 unused words, or -1. */
  unusedNonZeroAt: number;
}

const ascii = (b: Uint8Array) => String.fromCharCode(...b);

/** True when the head starts with either libvirt save magic. */
export function isSaveImage(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const m = ascii(head.subarray(0, 16));
  return m === LIBVIRT_SAVE_MAGIC || m === LIBVIRT_SAVE_PARTIAL;
}

export function compressionName(code: number): SaveCompression {
  const name = LIBVIRT_SAVE_COMPRESSIONS[code];
  if (name === undefined) throw new RefusedError(`unknown compression ${code} (known: ${Object.entries(LIBVIRT_SAVE_COMPRESSIONS).map(([k, v]) => `${k} ${v}`).join(", ")})`, 28);
  return name as SaveCompression;
}

export function compressionCode(name: string): number {
  const e = Object.entries(LIBVIRT_SAVE_COMPRESSIONS).find(([, v]) => v === name);
  if (!e) throw new RefusedError(`unknown compression '${name}' (known: ${Object.values(LIBVIRT_SAVE_COMPRESSIONS).join(", ")})`);
  return Number(e[0]);
}

/** The 92-byte header, little-endian, in the order its fields come. */
export function parseSaveHeader(bytes: Uint8Array): SaveHeader {
  const r = new ByteReader(bytes, 0);
  r.need(LIBVIRT_SAVE_HEADER_SIZE, "libvirt save header");
  const magic = ascii(r.bytesView(16, "magic"));
  if (magic !== LIBVIRT_SAVE_MAGIC && magic !== LIBVIRT_SAVE_PARTIAL) {
    throw new WireError("BAD_MAGIC", "not a libvirt save image", 0, { expected: `"${LIBVIRT_SAVE_MAGIC}"`, found: JSON.stringify(magic) });
  }
  const version = r.u32le();
  if (version !== LIBVIRT_SAVE_VERSION) {
    throw new WireError("UNSUPPORTED_VERSION", `libvirt save image version ${version} is not supported (${LIBVIRT_SAVE_VERSION} is)`, 16);
  }
  const dataLen = r.u32le();
  const wasRunning = r.u32le();
  const compressed = r.u32le();
  compressionName(compressed);
  const cookieOffset = r.u32le();
  if (cookieOffset > dataLen) throw new MalformedError(`cookieOffset ${cookieOffset} is past data_len ${dataLen}`, 32);
  const unused = r.bytesView(LIBVIRT_SAVE_HEADER_SIZE - 36, "unused");
  const nz = unused.findIndex((b) => b !== 0);
  return { partial: magic === LIBVIRT_SAVE_PARTIAL, version, dataLen, wasRunning, compressed, cookieOffset, unusedNonZeroAt: nz < 0 ? -1 : 36 + nz };
}

export function writeSaveHeader(w: ByteWriter, h: { partial?: boolean; dataLen: number; wasRunning: number; compressed: number; cookieOffset: number }): void {
  const magic = h.partial ? LIBVIRT_SAVE_PARTIAL : LIBVIRT_SAVE_MAGIC;
  for (let i = 0; i < 16; i++) w.u8(magic.charCodeAt(i));
  w.u32le(LIBVIRT_SAVE_VERSION);
  w.u32le(h.dataLen);
  w.u32le(h.wasRunning);
  w.u32le(h.compressed);
  w.u32le(h.cookieOffset);
  w.zeros(LIBVIRT_SAVE_HEADER_SIZE - 36);
}
