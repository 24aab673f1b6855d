import type { ByteWriter } from "./byte-writer.js";
import { LimitError } from "./limits.js";
import { TruncatedError, WireError, hex } from "./errors.js";
import type { StreamReader } from "./stream-reader.js";

/** Record alignment shared by every Xen v2 layer and the domain-context stream. */
export const RECORD_ALIGN = 8;
/** Type bit 31: a receiver that does not know the type may skip the record. */
export const OPTIONAL_BIT = 0x8000_0000;

export const isOptionalType = (type: number): boolean => (type & OPTIONAL_BIT) !== 0;

/**
 * Padding after a body of `length` bytes. Written without `length + 7` so that
 * a length near 2^32 or 2^53 cannot overflow the arithmetic.
 */
export function padding8(length: number | bigint): number {
  return typeof length === "bigint" ? Number((8n - (length % 8n)) % 8n) : (8 - (length % 8)) % 8;
}

const ZEROS = new Uint8Array(8);
const PADS = Array.from({ length: 8 }, (_, k) => ZEROS.subarray(0, k));

/** `n` (0–7) zero bytes of padding, as a shared read-only view: writers need not allocate one per record. */
export function zeroPadding(n: number): Uint8Array {
  return PADS[n] ?? ZEROS.subarray(0, n);
}

/** Header of one type/length record as it was on the wire. */
export interface RecordHeader {
  /** Index of the record in its stream (0-based). */
  index: number;
  type: number;
  /** Body length as declared (padding excluded). */
  length: number;
  /** Absolute offset of the record header. */
  offset: number;
  /** Absolute offset of the body. */
  bodyOffset: number;
}

export interface RecordFramingOptions {
  littleEndian: boolean;
  /** Largest body accepted (e.g. libxc's 128 MiB); larger is LIMIT_EXCEEDED at the length field. */
  maxBody?: number;
  /** Name used in error paths, "record" by default. */
  label?: string;
}

/**
 * Read the 8-byte `{u32 type, u32 body_length}` header used by libxc, libxl and
 * the legacy converter's output. Returns null at a clean end of stream.
 */
export async function readRecordHeader(
  r: StreamReader,
  index: number,
  opts: RecordFramingOptions,
): Promise<RecordHeader | null> {
  const offset = r.offset;
  if (r.buffered < 8 && !(await r.fill(8))) {
    if (r.buffered === 0) return null;
    throw new TruncatedError("record header", offset, 8, r.buffered, { path: `${opts.label ?? "record"}[${index}]` });
  }
  const h = r.reader(8);
  const type = h.u32(opts.littleEndian);
  const length = h.u32(opts.littleEndian);
  if (opts.maxBody !== undefined && length > opts.maxBody) {
    throw new LimitError(`record body length ${length} exceeds the limit of ${opts.maxBody}`, offset + 4, {
      path: `${opts.label ?? "record"}[${index}](${hex(type)})`,
    });
  }
  return { index, type, length, offset, bodyOffset: offset + 8 };
}

/** Consume and check the zero padding after a body. */
export async function readPadding(r: StreamReader, length: number | bigint, path = ""): Promise<void> {
  const pad = padding8(length);
  if (pad === 0) return;
  const at = r.offset;
  if (r.buffered < pad && !(await r.fill(pad))) {
    throw new TruncatedError("record padding", at, pad, r.buffered, { path });
  }
  checkPadding(r.take(pad), at, path);
}

/**
 * Check padding bytes already in hand (`at` is the absolute offset of the
 * first): the synchronous twin of `readPadding` for records whose bytes are
 * buffered. `path` may be a function, so hot loops build it only on a fault.
 */
export function checkPadding(bytes: Uint8Array, at: number, path: string | (() => string) = ""): void {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) {
      throw new WireError("NONZERO_PADDING", "non-zero record padding", at + i, {
        path: typeof path === "function" ? path() : path,
        expected: "0x00",
        found: hex(bytes[i]!, 2),
      });
    }
  }
}

/** Append `{type, length}` + body + zero padding to `w`. */
export function writeRecord(w: ByteWriter, type: number, body: Uint8Array, littleEndian: boolean): ByteWriter {
  w.u32(type >>> 0, littleEndian).u32(body.byteLength, littleEndian).bytes(body);
  return w.zeros(padding8(body.byteLength));
}

/**
 * Begin a record whose body is written in place; call the returned function when
 * the body is complete to back-patch the length and pad. Avoids a body copy.
 */
export function beginRecord(w: ByteWriter, type: number, littleEndian: boolean): () => ByteWriter {
  const at = w.length;
  w.u32(type >>> 0, littleEndian).u32(0, littleEndian);
  return () => {
    const len = w.length - at - 8;
    w.setU32(at + 4, len, littleEndian);
    return w.zeros(padding8(len));
  };
}
