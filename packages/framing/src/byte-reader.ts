import { MalformedError, TruncatedError, WireError, hex } from "./errors.js";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * One DataView per ArrayBuffer, shared by every ByteReader over it: a decoder
 * makes a reader per record header, and a fresh DataView each time was most of
 * the garbage of a record walk.
 */
const views = new WeakMap<ArrayBufferLike, DataView>();
function sharedView(buf: ArrayBufferLike): DataView {
  let v = views.get(buf);
  if (v === undefined) {
    v = new DataView(buf);
    views.set(buf, v);
  }
  return v;
}

/**
 * A bounds-checked cursor over bytes already in memory. Endianness is in every
 * method name (no host default); 64-bit values are bigint, with `…Safe` variants
 * that return a number and fail on values above 2^53 so hot loops avoid bigint.
 * `base` is the absolute stream offset of `bytes[0]`, so errors name real offsets.
 */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly base: number;
  pos = 0;
  readonly end: number;
  /** A DataView of the whole underlying buffer, shared by every reader over it (see sharedView). */
  private readonly dv: DataView;
  /** Offset of bytes[0] in `dv`. */
  private readonly o: number;
  private own: DataView | undefined;

  constructor(bytes: Uint8Array, base = 0) {
    this.bytes = bytes;
    this.dv = sharedView(bytes.buffer);
    this.o = bytes.byteOffset;
    this.base = base;
    this.end = bytes.byteLength;
  }

  /** A DataView of exactly `bytes` (made on first use). */
  get view(): DataView {
    return (this.own ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  /** Absolute stream offset of the next byte. */
  get offset(): number {
    return this.base + this.pos;
  }
  get remaining(): number {
    return this.end - this.pos;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Throw TruncatedError unless `n` more bytes are present. */
  need(n: number, what = "field"): void {
    if (n > this.end - this.pos || n < 0) throw new TruncatedError(what, this.offset, n, this.end - this.pos);
  }

  u8(): number {
    if (this.pos >= this.end) this.need(1, "u8");
    return this.bytes[this.pos++]!;
  }
  i8(): number {
    if (this.pos >= this.end) this.need(1, "i8");
    return this.dv.getInt8(this.o + (this.pos++));
  }
  peekU8(): number {
    if (this.pos >= this.end) this.need(1, "u8");
    return this.bytes[this.pos]!;
  }
  u16le(): number {
    const p = this.advance(2, "u16");
    return this.dv.getUint16(this.o + p, true);
  }
  u16be(): number {
    const p = this.advance(2, "u16");
    return this.dv.getUint16(this.o + p, false);
  }
  i16le(): number {
    const p = this.advance(2, "i16");
    return this.dv.getInt16(this.o + p, true);
  }
  i16be(): number {
    const p = this.advance(2, "i16");
    return this.dv.getInt16(this.o + p, false);
  }
  u32le(): number {
    const p = this.advance(4, "u32");
    return this.dv.getUint32(this.o + p, true);
  }
  u32be(): number {
    const p = this.advance(4, "u32");
    return this.dv.getUint32(this.o + p, false);
  }
  i32le(): number {
    const p = this.advance(4, "i32");
    return this.dv.getInt32(this.o + p, true);
  }
  i32be(): number {
    const p = this.advance(4, "i32");
    return this.dv.getInt32(this.o + p, false);
  }
  u64le(): bigint {
    const p = this.advance(8, "u64");
    return this.dv.getBigUint64(this.o + p, true);
  }
  u64be(): bigint {
    const p = this.advance(8, "u64");
    return this.dv.getBigUint64(this.o + p, false);
  }
  i64le(): bigint {
    const p = this.advance(8, "i64");
    return this.dv.getBigInt64(this.o + p, true);
  }
  i64be(): bigint {
    const p = this.advance(8, "i64");
    return this.dv.getBigInt64(this.o + p, false);
  }
  /** u64 as a number; a value above 2^53 is malformed (`what` names it in the error). */
  u64leSafe(what = "u64"): number {
    const p = this.advance(8, what);
    const hi = this.dv.getUint32(this.o + (p + 4), true);
    if (hi > 0x1fffff) throw tooBig(what, this.base + p, this.dv.getBigUint64(this.o + p, true));
    return hi * 0x1_0000_0000 + this.dv.getUint32(this.o + p, true);
  }
  u64beSafe(what = "u64"): number {
    const p = this.advance(8, what);
    const hi = this.dv.getUint32(this.o + p, false);
    if (hi > 0x1fffff) throw tooBig(what, this.base + p, this.dv.getBigUint64(this.o + p, false));
    return hi * 0x1_0000_0000 + this.dv.getUint32(this.o + (p + 4), false);
  }

  /** Endianness as data, for formats whose byte order is a header option. */
  u16(le: boolean): number {
    return le ? this.u16le() : this.u16be();
  }
  u32(le: boolean): number {
    return le ? this.u32le() : this.u32be();
  }
  u64(le: boolean): bigint {
    return le ? this.u64le() : this.u64be();
  }
  u64Safe(le: boolean, what?: string): number {
    return le ? this.u64leSafe(what) : this.u64beSafe(what);
  }

  /** A zero-copy view of the next `n` bytes. */
  bytesView(n: number, what = "bytes"): Uint8Array {
    const p = this.advance(n, what);
    return this.bytes.subarray(p, p + n);
  }
  /** A reader over the next `n` bytes, keeping absolute offsets. */
  sub(n: number, what = "body"): ByteReader {
    const p = this.advance(n, what);
    return new ByteReader(this.bytes.subarray(p, p + n), this.base + p);
  }
  skip(n: number, what = "bytes"): void {
    this.advance(n, what);
  }
  /** Consume `n` bytes that must all be zero (padding, reserved fields). */
  zeros(n: number, what = "padding"): void {
    const p = this.advance(n, what);
    for (let i = 0; i < n; i++) {
      if (this.bytes[p + i] !== 0)
        throw new WireError("NONZERO_PADDING", `non-zero ${what}`, this.base + p + i, {
          expected: "0x00",
          found: hex(this.bytes[p + i]!, 2),
        });
    }
  }
  /** Fail with TRAILING_BYTES unless everything was consumed. */
  expectEnd(what = "structure"): void {
    if (this.pos !== this.end)
      throw new WireError("TRAILING_BYTES", `${this.end - this.pos} unexpected byte(s) after ${what}`, this.offset);
  }

  private advance(n: number, what: string): number {
    const p = this.pos;
    if (n > this.end - p || n < 0) throw new TruncatedError(what, this.base + p, n, this.end - p);
    this.pos = p + n;
    return p;
  }
}

function tooBig(what: string, offset: number, v: bigint): WireError {
  return new MalformedError(`${what} too large`, offset, { expected: `at most ${MAX_SAFE}`, found: v.toString() });
}
