/**
 * The one writer of JSON documents as bytes (`decode` of every family):
 * text goes straight into reusable blocks of UTF-8, base64 is encoded from
 * the stream's bytes straight into the same blocks, so a page never becomes
 * a JavaScript string and no string is ever concatenated. Browser-safe.
 *
 * A decoder writes, and hands out whole blocks between events:
 *
 *     const w = new JsonWriter();
 *     w.raw('{"records": [');
 *     if (w.full) yield* w.drain();   // blocks of `size` bytes, ready
 *     yield* w.base64Of(reader, n);   // page data, read and encoded in runs
 *     yield* w.end();                 // the rest
 *
 * The blocks handed out are views of buffers reused once the consumer asks
 * for the next one: it writes or copies each before asking (as a sink does).
 */
import type { StreamReader } from "./stream-reader.js";

/** Bytes per block handed to the consumer: sinks see few, large writes. */
export const JSON_BLOCK = 1 << 20;
/** Input bytes encoded per run when base64 is read from a stream (a multiple of 3). */
const RUN = 3 << 18;

const ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Two base64 characters for every 12 bits, as a little-endian pair: one lookup per half triplet. */
const PAIR = new Uint16Array(4096);
for (let i = 0; i < 4096; i++) PAIR[i] = ALPHA.charCodeAt(i >> 6) | (ALPHA.charCodeAt(i & 63) << 8);
const te = new TextEncoder();

export class JsonWriter {
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;
  /** Blocks full and waiting for the consumer; `spare` are buffers it has finished with. */
  private readonly ready: Uint8Array[] = [];
  private readonly spare: Uint8Array[] = [];

  constructor(private readonly size = JSON_BLOCK) {
    this.size = Math.max(16, size);
    this.buf = new Uint8Array(this.size);
    this.dv = new DataView(this.buf.buffer);
  }

  /** True when at least one block is ready for `drain`. */
  get full(): boolean {
    return this.ready.length > 0;
  }

  /** JSON text as it is (already valid where it stands). */
  raw(s: string): this {
    const n = s.length;
    if (n <= 128 && this.size - this.pos >= n) {
      // Short ASCII text (keys, numbers, punctuation): byte by byte beats a native call.
      const b = this.buf;
      let p = this.pos;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        this.pos = p;
        return this;
      }
    }
    if ((this.size - this.pos) >= n * 3) {
      this.pos += te.encodeInto(s, this.buf.subarray(this.pos)).written;
      return this;
    }
    return this.bytes(te.encode(s));
  }

  /** A JSON string literal of `s`. */
  str(s: string): this {
    return this.raw(JSON.stringify(s));
  }

  /** Bytes of JSON text, copied in. */
  bytes(b: Uint8Array): this {
    let i = 0;
    while (i < b.byteLength) {
      if (this.pos === this.size) this.next();
      const k = Math.min(b.byteLength - i, this.size - this.pos);
      this.buf.set(b.subarray(i, i + k), this.pos);
      this.pos += k;
      i += k;
    }
    return this;
  }

  /**
   * Any JSON value as `JSON.stringify(v, jsonReplacer)` writes it (compact):
   * bigint as a decimal string, Uint8Array as a base64 string, object keys in
   * insertion order, undefined members left out.
   */
  value(v: unknown): this {
    switch (typeof v) {
      case "string":
        return this.str(v);
      case "number":
        return this.raw(Number.isFinite(v) ? String(v) : "null");
      case "bigint":
        return this.raw(`"${v}"`);
      case "boolean":
        return this.raw(v ? "true" : "false");
      case "object":
        break;
      default:
        return this.raw("null");
    }
    if (v === null) return this.raw("null");
    if (v instanceof Uint8Array) return this.raw('"').base64(v).raw('"');
    if (Array.isArray(v)) {
      this.raw("[");
      for (let i = 0; i < v.length; i++) {
        if (i) this.raw(",");
        const x: unknown = v[i];
        this.value(x === undefined || typeof x === "function" ? null : x);
      }
      return this.raw("]");
    }
    this.raw("{");
    let first = true;
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      this.raw(first ? "" : ",").str(k).raw(":").value(x);
      first = false;
    }
    return this.raw("}");
  }

  /**
   * Base64 of `b` (standard alphabet, padded when its length is not a
   * multiple of 3: so pieces of one string must be whole triplets but the last).
   */
  base64(b: Uint8Array): this {
    const n = b.byteLength;
    let i = 0;
    while (n - i >= 3) {
      let room = this.size - this.pos;
      if (room < 4) {
        this.next();
        room = this.size;
      }
      const end = i + Math.min(((n - i) / 3) | 0, room >> 2) * 3;
      const dv = this.dv;
      let p = this.pos;
      // The hot loop of `decode`: twelve bytes in three 32-bit loads, sixteen characters
      // in four 32-bit stores (half again as fast as byte by byte)…
      const din = new DataView(b.buffer, b.byteOffset, n);
      for (; i + 12 <= end; i += 12) {
        const x = din.getUint32(i);
        const y = din.getUint32(i + 4);
        const z = din.getUint32(i + 8);
        const t0 = x >>> 8;
        const t1 = ((x & 0xff) << 16) | (y >>> 16);
        const t2 = ((y & 0xffff) << 8) | (z >>> 24);
        const t3 = z & 0xffffff;
        dv.setUint32(p, PAIR[t0 >>> 12]! | (PAIR[t0 & 4095]! << 16), true);
        dv.setUint32(p + 4, PAIR[t1 >>> 12]! | (PAIR[t1 & 4095]! << 16), true);
        dv.setUint32(p + 8, PAIR[t2 >>> 12]! | (PAIR[t2 & 4095]! << 16), true);
        dv.setUint32(p + 12, PAIR[t3 >>> 12]! | (PAIR[t3 & 4095]! << 16), true);
        p += 16;
      }
      // …then a triplet at a time.
      for (; i < end; i += 3) {
        const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
        dv.setUint32(p, PAIR[v >>> 12]! | (PAIR[v & 4095]! << 16), true);
        p += 4;
      }
      this.pos = p;
    }
    if (i < n) {
      if (this.size - this.pos < 4) this.next();
      const v = (b[i]! << 16) | (i + 1 < n ? b[i + 1]! << 8 : 0);
      const x = PAIR[v >>> 12]!;
      const y = PAIR[v & 4095]!;
      const o = this.buf;
      o[this.pos] = x & 255;
      o[this.pos + 1] = x >> 8;
      o[this.pos + 2] = i + 1 < n ? y & 255 : 0x3d;
      o[this.pos + 3] = 0x3d;
      this.pos += 4;
    }
    return this;
  }

  /**
   * Base64 of the next `n` bytes of `r`, encoded from views of the reader's
   * buffer (never copied first), handing out blocks as they fill.
   */
  async *base64Of(r: StreamReader, n: number, what = "data"): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const k = Math.min(left, RUN);
      await r.need(k, what);
      this.base64(r.take(k));
      left -= k;
      if (this.ready.length) yield* this.drain();
    }
  }

  /** Base64 of everything left in `r` (a record that runs to the end of the stream). */
  async *base64Rest(r: StreamReader): AsyncGenerator<Uint8Array> {
    const carry = new Uint8Array(3);
    let held = 0;
    while (await r.fill(1)) {
      let v = r.take(r.buffered);
      if (held) {
        // Complete the triplet the last view left open.
        while (held < 3 && v.byteLength) {
          carry[held++] = v[0]!;
          v = v.subarray(1);
        }
        if (held < 3) continue;
        this.base64(carry);
        held = 0;
      }
      const cut = v.byteLength - (v.byteLength % 3);
      this.base64(v.subarray(0, cut));
      for (let i = cut; i < v.byteLength; i++) carry[held++] = v[i]!;
      if (this.ready.length) yield* this.drain();
    }
    this.base64(carry.subarray(0, held));
  }

  /** The blocks that are full; their buffers are reused once the consumer asks for more. */
  *drain(): Generator<Uint8Array> {
    const n = this.ready.length;
    for (let i = 0; i < n; i++) yield this.ready[i]!;
    for (const b of this.ready.splice(0, n)) this.spare.push(new Uint8Array(b.buffer, b.byteOffset, this.size));
  }

  /** Everything written and not yet handed out, then the writer is empty. */
  *end(): Generator<Uint8Array> {
    if (this.pos > 0) this.next();
    yield* this.drain();
  }

  /** Close the current block (possibly short) and start another. */
  private next(): void {
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = this.spare.pop() ?? new Uint8Array(this.size);
    this.dv = new DataView(this.buf.buffer, this.buf.byteOffset, this.size);
    this.pos = 0;
  }
}

/**
 * The text of a document written as bytes (`FamilyCodec.decode` from
 * `decodeBytes`): one string per block, characters split across blocks kept whole.
 */
export async function* jsonTextOf(blocks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const td = new TextDecoder("utf-8", { fatal: true });
  for await (const b of blocks) {
    const s = td.decode(b, { stream: true });
    if (s) yield s;
  }
  const s = td.decode();
  if (s) yield s;
}
