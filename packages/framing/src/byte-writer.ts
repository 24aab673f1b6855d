/**
 * A growable little/big-endian writer. One buffer reused across records (call
 * `reset()`), so encoders do not allocate per field. `finish()` returns a view
 * that stays valid until the next write.
 */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** The last view `finish` made: a fixed-size header written once per record reuses it. */
  private last: Uint8Array | null = null;
  length = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): this {
    this.length = 0;
    return this;
  }

  /** The bytes written so far (a view; copy it if you keep it across writes). */
  finish(): Uint8Array {
    const last = this.last;
    if (last !== null && last.byteLength === this.length && last.buffer === this.buf.buffer) return last;
    return (this.last = this.buf.subarray(0, this.length));
  }

  /** Make room for `n` more bytes and return the write position. */
  reserve(n: number): number {
    const p = this.length;
    const need = p + n;
    if (need > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < need) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, p));
      this.buf = nb;
      this.view = new DataView(nb.buffer);
    }
    this.length = need;
    return p;
  }

  u8(v: number): this {
    const p = this.reserve(1);
    this.buf[p] = v;
    return this;
  }
  i8(v: number): this {
    const p = this.reserve(1);
    this.view.setInt8(p, v);
    return this;
  }
  u16le(v: number): this {
    const p = this.reserve(2);
    this.view.setUint16(p, v, true);
    return this;
  }
  u16be(v: number): this {
    const p = this.reserve(2);
    this.view.setUint16(p, v, false);
    return this;
  }
  i16le(v: number): this {
    const p = this.reserve(2);
    this.view.setInt16(p, v, true);
    return this;
  }
  i16be(v: number): this {
    const p = this.reserve(2);
    this.view.setInt16(p, v, false);
    return this;
  }
  u32le(v: number): this {
    const p = this.reserve(4);
    this.view.setUint32(p, v, true);
    return this;
  }
  u32be(v: number): this {
    const p = this.reserve(4);
    this.view.setUint32(p, v, false);
    return this;
  }
  i32le(v: number): this {
    const p = this.reserve(4);
    this.view.setInt32(p, v, true);
    return this;
  }
  i32be(v: number): this {
    const p = this.reserve(4);
    this.view.setInt32(p, v, false);
    return this;
  }
  u64le(v: bigint | number): this {
    const p = this.reserve(8);
    this.view.setBigUint64(p, BigInt(v), true);
    return this;
  }
  u64be(v: bigint | number): this {
    const p = this.reserve(8);
    this.view.setBigUint64(p, BigInt(v), false);
    return this;
  }
  i64le(v: bigint | number): this {
    const p = this.reserve(8);
    this.view.setBigInt64(p, BigInt(v), true);
    return this;
  }
  i64be(v: bigint | number): this {
    const p = this.reserve(8);
    this.view.setBigInt64(p, BigInt(v), false);
    return this;
  }
  u16(v: number, le: boolean): this {
    return le ? this.u16le(v) : this.u16be(v);
  }
  u32(v: number, le: boolean): this {
    return le ? this.u32le(v) : this.u32be(v);
  }
  u64(v: bigint | number, le: boolean): this {
    return le ? this.u64le(v) : this.u64be(v);
  }
  bytes(b: Uint8Array): this {
    const p = this.reserve(b.byteLength);
    this.buf.set(b, p);
    return this;
  }
  zeros(n: number): this {
    const p = this.reserve(n);
    this.buf.fill(0, p, p + n);
    return this;
  }
  /** Zero-pad so that `length - start` is a multiple of `align`. */
  padTo(align: number, start = 0): this {
    const r = (this.length - start) % align;
    return r === 0 ? this : this.zeros(align - r);
  }
  /** Overwrite a u32 already written (length back-patching). */
  setU32(at: number, v: number, le: boolean): this {
    this.view.setUint32(at, v, le);
    return this;
  }
}
