/**
 * The one streaming JSON reader: pull-based, over the UTF-8 bytes of a
 * StreamReader, browser-safe. `encode` reads documents far larger than a
 * JavaScript string can hold (V8 stops at ~0x1fffffe8 characters), so
 * nothing here ever makes a string of a whole document or of a long value:
 *
 * - structure is walked with `openObject`/`nextKey` and `openArray`/`nextItem`
 *   (commas and colons are checked here, strictly);
 * - small values come whole from `value()` (bounded by `maxValue` bytes);
 * - base64 byte strings (page data) are decoded straight from the input
 *   buffer into bytes with `base64()`, never becoming a string;
 * - other long strings come in bounded pieces from `stringPieces()`;
 * - `tokens()` yields every token with its byte offset, for generic use.
 *
 * Every syntax fault is a MalformedError naming the exact byte offset in the
 * document where it stops being JSON, including one that ends early.
 */
import { MalformedError } from "./errors.js";
import { LimitError } from "./limits.js";
import { safeObject } from "./json.js";
import type { StreamReader } from "./stream-reader.js";

export interface JsonReaderOptions {
  /** Longest whole value `value()` assembles, in bytes of JSON text (default 64 MiB). */
  maxValue?: number;
  /** Longest piece of a string `stringPieces()`/`tokens()` hands out, in bytes (default 1 MiB). */
  maxPiece?: number;
}

export type JsonTokenKind = "{" | "}" | "[" | "]" | "key" | "string" | "number" | "true" | "false" | "null";

/** One token of `tokens()`: `offset` is its first byte in the document. */
export interface JsonToken {
  kind: JsonTokenKind;
  offset: number;
  /** The key, the string (or one piece of it), or the number. */
  value?: string | number;
  /** A string piece that more pieces of the same string follow. */
  partial?: boolean;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const td = new TextDecoder();

const B64 = new Int16Array(256).fill(-1);
{
  const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) B64[a.charCodeAt(i)] = i;
}
/** Two base64 characters (the first in the low byte) to their 12 bits; -1 if either is not in the alphabet. */
const B64_PAIR = new Int32Array(65536).fill(-1);
for (let a = 0; a < 256; a++) {
  if (B64[a]! < 0) continue;
  for (let b = 0; b < 256; b++) if (B64[b]! >= 0) B64_PAIR[a | (b << 8)] = (B64[a]! << 6) | B64[b]!;
}
/** Bytes handed to a base64 consumer at a time (a multiple of 3). */
const B64_OUT = 3 << 16;
/** Text read ahead to find where a base64 string ends, so its bytes are allocated once. */
const B64_AHEAD = 8 << 20;
/** Room kept at the end of a base64 output buffer: the hot loop writes four bytes for three. */
const SLACK = 4;
const NONE: ReadonlySet<string> = new Set();

const isBlank = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const shown = (b: number): string => (b < 0 ? "end of input" : b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, "0")}`);

/** Containers opened through openObject/openArray: how many members each has had. */
interface Open {
  object: boolean;
  count: number;
}

export class JsonReader {
  private readonly maxValue: number;
  private readonly maxPiece: number;
  private readonly open: Open[] = [];
  private out: Uint8Array | null = null;
  /** The buffer `object(…, reuse)` decodes base64 members into, and how much of it this object uses. */
  private arena: Uint8Array | null = null;
  private arenaUsed = 0;

  constructor(
    private readonly r: StreamReader,
    opts: JsonReaderOptions = {},
  ) {
    this.maxValue = opts.maxValue ?? 64 << 20;
    this.maxPiece = Math.max(16, opts.maxPiece ?? 1 << 20);
  }

  /** Byte offset of the next unread byte of the document. */
  get offset(): number {
    return this.r.offset;
  }

  /** The next non-blank byte, not consumed; -1 at the end of the input. */
  async peek(): Promise<number> {
    for (;;) {
      if (this.r.buffered < 1 && !(await this.r.fill(1))) return -1;
      const v = this.r.peek(this.r.buffered);
      let i = 0;
      while (i < v.length && isBlank(v[i]!)) i++;
      this.r.discard(i);
      if (i < v.length) return v[i]!;
    }
  }

  /** Consume the byte `peek` returned. */
  take(): void {
    this.r.discard(1);
  }

  /** Consume the structural byte `b` (after blanks), or fail naming `what` was expected. */
  async expect(b: number, what: string): Promise<void> {
    const c = await this.peek();
    if (c !== b) throw this.fault(`${what} expected`, this.r.offset, c);
    this.r.discard(1);
  }

  /** True when nothing but blanks is left. */
  async atEnd(): Promise<boolean> {
    return (await this.peek()) === -1;
  }

  /** Fail unless nothing but blanks is left. */
  async end(): Promise<void> {
    const c = await this.peek();
    if (c !== -1) throw this.fault("nothing expected after the document", this.r.offset, c);
  }

  // ---- structure -------------------------------------------------------

  /** Consume `{`; then call `nextKey` until it returns null. */
  async openObject(): Promise<void> {
    await this.expect(0x7b, "'{'");
    this.open.push({ object: true, count: 0 });
  }

  /** The next key of the innermost open object (its `:` consumed), or null after its `}`. */
  async nextKey(): Promise<string | null> {
    const o = this.innermost(true);
    let c = await this.peek();
    if (c === 0x7d) {
      this.r.discard(1);
      this.open.pop();
      return null;
    }
    if (o.count > 0) {
      if (c !== 0x2c) throw this.fault("',' or '}' expected", this.r.offset, c);
      this.r.discard(1);
      c = await this.peek();
    }
    if (c !== QUOTE) throw this.fault("a string key expected", this.r.offset, c);
    const key = await this.value();
    await this.expect(0x3a, "':'");
    o.count++;
    return key as string;
  }

  /** Consume `[`; then call `nextItem` before each item until it returns false. */
  async openArray(): Promise<void> {
    await this.expect(0x5b, "'['");
    this.open.push({ object: false, count: 0 });
  }

  /** True when the innermost open array has another item (its `,` consumed); false after its `]`. */
  async nextItem(): Promise<boolean> {
    const a = this.innermost(false);
    const c = await this.peek();
    if (c === 0x5d) {
      this.r.discard(1);
      this.open.pop();
      return false;
    }
    if (a.count > 0) {
      if (c !== 0x2c) throw this.fault("',' or ']' expected", this.r.offset, c);
      this.r.discard(1);
    } else if (c === -1) throw this.fault("a value or ']' expected", this.r.offset, c);
    a.count++;
    return true;
  }

  private innermost(object: boolean): Open {
    const o = this.open[this.open.length - 1];
    if (!o || o.object !== object) throw new Error(`JsonReader: ${object ? "nextKey" : "nextItem"} outside an open ${object ? "object" : "array"}`);
    return o;
  }

  // ---- values -----------------------------------------------------------

  /**
   * The next whole value, parsed. It must fit in `maxValue` bytes of text
   * (a LimitError says so otherwise: read it with the structure methods,
   * `base64` or `stringPieces` instead).
   */
  async value(): Promise<unknown> {
    const c = await this.peek();
    if (c === -1) throw this.fault("a value expected", this.r.offset, c);
    // Keys, small integers and short plain strings (most of a document's values, one
    // per page in a decoded guest) are read in place: no text decoder, no JSON.parse.
    const v = this.r.peek(this.r.buffered);
    const n = c === QUOTE ? plainString(v) : c === 0x2d || isDigit(c) ? plainInteger(v) : -1;
    if (n > 0) {
      this.r.discard(n);
      return c === QUOTE ? (n === 2 ? "" : String.fromCharCode.apply(null, v.subarray(1, n - 1) as unknown as number[])) : intOf(v, n);
    }
    const start = this.r.offset;
    let want = Math.min(1 << 16, this.maxValue);
    for (;;) {
      const eof = !(await this.r.fill(want));
      const v = this.r.peek(this.r.buffered);
      const n = scanValue(v, 0, eof, start);
      if (n >= 0) {
        const text = td.decode(v.subarray(0, n));
        this.r.discard(n);
        return JSON.parse(text);
      }
      if (v.byteLength >= this.maxValue) {
        throw new LimitError(`JSON value longer than ${this.maxValue} bytes`, start, { expected: "a smaller value here" });
      }
      want = Math.min(want * 4, this.maxValue + 1);
    }
  }

  /** Pass over the next value of any size without keeping it (syntax is still checked). */
  async skip(): Promise<void> {
    for await (const _ of this.tokensOf(true));
  }

  /**
   * Decode the next value, a base64 string, straight from the input into
   * bytes: `onBytes` receives views of a buffer reused after its promise
   * resolves (so a consumer copies or writes them out). No string is made,
   * whatever the length. Returns the number of bytes decoded.
   */
  async base64(onBytes: (chunk: Uint8Array) => void | Promise<void>, what = "base64"): Promise<number> {
    let total = 0;
    const out = (this.out ??= new Uint8Array(B64_OUT + SLACK));
    await this.decode64(what, out, async (_, o) => {
      total += o;
      if (o > 0) await onBytes(out.subarray(0, o));
      return out;
    });
    return total;
  }

  /**
   * The next value, a base64 string, decoded into one array: a new one (sized
   * from the text), or with `reuse` a piece of a buffer this reader reuses
   * from one `object(…, reuse)` to the next (a fresh array per page would cost
   * an allocation and its page faults each time: most of `encode`).
   */
  async base64Bytes(what = "base64", reuse = false): Promise<Uint8Array> {
    if (reuse) return this.base64Reused(what);
    const r = this.r;
    let chars = 1 << 16;
    if ((await this.peek()) === QUOTE) {
      // Size the array from the text: read ahead (boundedly) until the closing quote is
      // in view; past that, guess twice what is, grown by half as needed.
      let v = r.peek(r.buffered);
      let q = v.indexOf(QUOTE, 1);
      if (q < 0 && v.byteLength < B64_AHEAD) {
        await r.fill(B64_AHEAD);
        v = r.peek(r.buffered);
        q = v.indexOf(QUOTE, 1);
      }
      chars = q > 0 ? q - 1 : Math.max(2 * v.byteLength, chars);
    }
    let into = new Uint8Array(((chars >> 2) + 1) * 3 + SLACK);
    let n = 0;
    await this.decode64(what, into, (full, o) => {
      n = o;
      if (full) {
        const more = new Uint8Array(into.byteLength + (into.byteLength >> 1) + B64_OUT);
        more.set(into.subarray(0, o));
        into = more;
      }
      return into;
    });
    return into.subarray(0, n);
  }

  private async base64Reused(what: string): Promise<Uint8Array> {
    let a = (this.arena ??= new Uint8Array(1 << 20));
    let start = this.arenaUsed;
    if (a.byteLength - start < B64_OUT) {
      // Pieces handed out earlier keep the old buffer alive; this one starts a bigger one.
      a = this.arena = new Uint8Array(a.byteLength * 2);
      start = 0;
    }
    let into = a.subarray(start);
    let n = 0;
    await this.decode64(what, into, (full, o) => {
      n = o;
      if (full) {
        const bigger = new Uint8Array(Math.max(a.byteLength * 2, o * 2 + B64_OUT));
        bigger.set(into.subarray(0, o));
        this.arena = a = into = bigger;
        start = 0;
      }
      return into;
    });
    this.arenaUsed = start + ((n + 7) & ~7);
    return into.subarray(0, n);
  }

  /**
   * The base64 decoder: from the input's buffer into `dst`; when `dst` is
   * full, `spill(true, n)` returns where to go on (the same buffer, emptied,
   * or a larger one holding the `n` bytes so far); at the end `spill(false, n)`.
   */
  private async decode64(
    what: string,
    dst: Uint8Array,
    spill: (full: boolean, n: number) => Uint8Array | Promise<Uint8Array>,
  ): Promise<void> {
    const r = this.r;
    const c = await this.peek();
    if (c !== QUOTE) throw this.bad(`${what}: a base64 string expected`, r.offset, c);
    r.discard(1);
    let out = dst;
    let dout = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let o = 0;
    let acc = 0;
    let n = 0; // characters of the quartet in progress
    let pad = 0; // '=' seen
    for (;;) {
      if (r.buffered < 1 && !(await r.fill(1))) throw this.fault(`${what}: the string does not end`, r.offset, -1);
      const v = r.peek(r.buffered);
      const len = v.byteLength;
      let i = 0;
      let closed = false;
      let stalled = false;
      while (i < len) {
        if (n === 0 && pad === 0) {
          // Whole quartets of alphabet characters, as many as `out` has room for: the hot
          // loop. Two characters per lookup, four bytes read and written at a time (the
          // fourth written is the next triplet's, or the slack at the end of `out`).
          const quads = Math.min((len - i) >> 2, ((out.byteLength - SLACK - o) / 3) | 0);
          if (quads > 0) {
            const o2 = quartets(v, i, quads, dout, o);
            i += ((o2 - o) / 3) << 2;
            o = o2;
          }
        }
        if (o > out.byteLength - SLACK - 3 || i >= len) break;
        // One character at a time: quartets split across buffers, padding, the end, faults.
        const b = v[i]!;
        if (b === QUOTE) {
          closed = true;
          break;
        }
        let d = B64[b]!;
        if (b === BACKSLASH && pad === 0) {
          // "\/" is JSON's optional escape of '/', a base64 character; nothing else is.
          if (i + 1 >= len) {
            stalled = true;
            break;
          }
          if (v[i + 1] !== 0x2f) throw this.bad(`${what}: invalid base64`, r.offset + i, b);
          d = 63;
          i++;
        }
        if (d >= 0 && pad === 0) {
          acc = (acc << 6) | d;
          if (++n === 4) {
            out[o++] = (acc >>> 16) & 255;
            out[o++] = (acc >>> 8) & 255;
            out[o++] = acc & 255;
            acc = 0;
            n = 0;
          }
        } else if (b === 0x3d && n >= 2) {
          // '=' pads the last quartet: "xx==" or "xxx="; only the closing quote may follow.
          acc <<= 6;
          pad++;
          if (++n === 4) {
            out[o++] = (acc >>> 16) & 255;
            if (pad === 1) out[o++] = (acc >>> 8) & 255;
            acc = 0;
            n = 0;
          }
        } else {
          throw this.bad(`${what}: invalid base64`, r.offset + i, b);
        }
        i++;
      }
      r.discard(i);
      if (o > out.byteLength - SLACK - 3) {
        const next = await spill(true, o);
        if (next !== out) {
          out = next;
          dout = new DataView(out.buffer, out.byteOffset, out.byteLength);
        } else o = 0;
      }
      if (closed) {
        if (n !== 0) throw this.bad(`${what}: base64 length is not a multiple of 4`, r.offset, QUOTE);
        r.discard(1);
        break;
      }
      if (stalled && !(await r.fill(2))) throw this.fault(`${what}: the string does not end`, r.offset + 1, -1);
    }
    await spill(false, o);
  }

  /**
   * The next value, a string of any length, in pieces of at most `maxPiece`
   * bytes of text (each piece cut on a character boundary, escapes decoded).
   */
  async *stringPieces(): AsyncGenerator<string> {
    const c = await this.peek();
    if (c !== QUOTE) throw this.fault("a string expected", this.r.offset, c);
    yield* this.pieces();
  }

  /**
   * Every token of the next value with its byte offset (keys as `key`
   * tokens; strings longer than `maxPiece` in pieces marked `partial`).
   * Commas and colons are checked, not yielded.
   */
  tokens(): AsyncGenerator<JsonToken> {
    return this.tokensOf(false);
  }

  private async *tokensOf(quiet: boolean): AsyncGenerator<JsonToken> {
    // Iterative: hostile nesting cannot overflow the stack.
    const stack: Open[] = [];
    for (;;) {
      const top = stack[stack.length - 1];
      if (top) {
        const c = await this.peek();
        if (c === (top.object ? 0x7d : 0x5d)) {
          const at = this.r.offset;
          this.r.discard(1);
          stack.pop();
          if (!quiet) yield { kind: top.object ? "}" : "]", offset: at };
          if (stack.length === 0) return;
          continue;
        }
        if (top.count > 0) {
          if (c !== 0x2c) throw this.fault(`',' or '${top.object ? "}" : "]"}' expected`, this.r.offset, c);
          this.r.discard(1);
        }
        top.count++;
        if (top.object) {
          const k = await this.peek();
          const at = this.r.offset;
          if (k !== QUOTE) throw this.fault("a string key expected", at, k);
          const key = (await this.value()) as string;
          await this.expect(0x3a, "':'");
          if (!quiet) yield { kind: "key", offset: at, value: key };
        }
      }
      const c = await this.peek();
      const at = this.r.offset;
      if (c === 0x7b || c === 0x5b) {
        this.r.discard(1);
        stack.push({ object: c === 0x7b, count: 0 });
        if (!quiet) yield { kind: c === 0x7b ? "{" : "[", offset: at };
        continue;
      }
      if (c === QUOTE) {
        if (quiet) for await (const _ of this.pieces());
        else {
          let prev: string | null = null;
          for await (const p of this.pieces()) {
            if (prev !== null) yield { kind: "string", offset: at, value: prev, partial: true };
            prev = p;
          }
          yield { kind: "string", offset: at, value: prev ?? "" };
        }
      } else {
        const v = await this.value();
        if (!quiet) yield typeof v === "number" ? { kind: "number", offset: at, value: v } : { kind: v === null ? "null" : v ? "true" : "false", offset: at };
      }
      if (stack.length === 0) return;
    }
  }

  /** At a quote: the string's text in pieces, each a whole JSON string parsed. */
  private async *pieces(): AsyncGenerator<string> {
    const r = this.r;
    r.discard(1);
    for (;;) {
      const eof = !(await r.fill(Math.min(this.maxPiece, 1 << 16)));
      const v = r.peek(Math.min(r.buffered, this.maxPiece));
      let i = 0;
      let closed = false;
      while (i < v.length) {
        const b = v[i]!;
        if (b === QUOTE) {
          closed = true;
          break;
        }
        if (b < 0x20) throw this.fault("control character in a string", r.offset + i, b);
        if (b === BACKSLASH) {
          const e = escapeLength(v, i);
          if (e < 0) throw this.fault("invalid escape in a string", r.offset + i, v[i + 1] ?? -1);
          if (e === 0) break; // the escape continues in the next buffer
          i += e;
          continue;
        }
        i++;
      }
      if (!closed) {
        // Cut before a character whose UTF-8 bytes run past the view, so each piece decodes alone.
        let cut = i;
        if (i === v.length) {
          let p = i - 1;
          while (p > 0 && p > i - 4 && (v[p]! & 0xc0) === 0x80) p--;
          if (p >= 0 && v[p]! >= 0xc0 && p + (v[p]! >= 0xf0 ? 4 : v[p]! >= 0xe0 ? 3 : 2) > i) cut = p;
        }
        if (cut === 0) {
          if (eof || r.buffered >= this.maxPiece) throw this.fault("the string does not end", r.offset + r.buffered, -1);
          await r.fill(r.buffered + 16);
          continue;
        }
        i = cut;
      }
      if (i > 0) yield JSON.parse(`"${td.decode(v.subarray(0, i))}"`) as string;
      r.discard(i);
      if (closed) {
        r.discard(1);
        return;
      }
      if (eof && r.buffered === 0) throw this.fault("the string does not end", r.offset, -1);
    }
  }

  /**
   * The next value, an object, with the string members named in `bytesKeys`
   * decoded from base64 straight into Uint8Arrays, the object members named
   * in `nestKeys` read by the same rule, and every other member parsed by
   * `value()`. For records whose payload would otherwise be a long string.
   * With `reuse`, the bytes are views of a buffer the next `object(…, reuse)`
   * overwrites: for a reader that is done with each object before the next.
   */
  async object(bytesKeys: ReadonlySet<string>, nestKeys: ReadonlySet<string> = NONE, depth = 0, reuse = false): Promise<Record<string, unknown>> {
    // With `reuse`, the bytes of the previous object are done with: their buffer serves this one.
    if (reuse && depth === 0) this.arenaUsed = 0;
    if ((await this.peek()) === 0x7b) {
      // An object whole in the buffer (a page's record) is read without an await per member.
      const v = this.r.peek(this.r.buffered);
      const mark = this.arenaUsed;
      const got = this.objectInView(v, 0, bytesKeys, nestKeys, depth, reuse);
      if (got) {
        this.r.discard(got.end);
        return got.o;
      }
      this.arenaUsed = mark;
    }
    const o = safeObject();
    await this.openObject();
    for (let k = await this.nextKey(); k !== null; k = await this.nextKey()) {
      const c = await this.peek();
      if (c === QUOTE && bytesKeys.has(k)) o[k] = await this.base64Bytes(k, reuse);
      else if (c === 0x7b && nestKeys.has(k) && depth < 8) o[k] = await this.object(bytesKeys, nestKeys, depth + 1, reuse);
      else o[k] = await this.value();
    }
    return o;
  }

  /**
   * `object` over bytes in view, synchronously: the object at `v[i]` and the
   * index past it, or null when it is not whole in view or anything in it is
   * unusual (escapes, a fault…): the general path then reads it, and reports
   * any fault at its exact offset.
   */
  private objectInView(
    v: Uint8Array,
    i: number,
    bytesKeys: ReadonlySet<string>,
    nestKeys: ReadonlySet<string>,
    depth: number,
    reuse: boolean,
  ): { o: Record<string, unknown>; end: number } | null {
    const n = v.byteLength;
    const blank = (k: number): number => {
      while (k < n && isBlank(v[k]!)) k++;
      return k;
    };
    if (v[i] !== 0x7b) return null;
    const o = safeObject();
    i = blank(i + 1);
    if (v[i] === 0x7d) return { o, end: i + 1 };
    for (;;) {
      if (i >= n || v[i] !== QUOTE) return null;
      const kl = plainString(v.subarray(i, Math.min(n, i + 128)));
      if (kl < 0) return null;
      const key = kl === 2 ? "" : String.fromCharCode.apply(null, v.subarray(i + 1, i + kl - 1) as unknown as number[]);
      i = blank(i + kl);
      if (v[i] !== 0x3a) return null;
      i = blank(i + 1);
      if (i >= n) return null;
      const c = v[i]!;
      if (c === QUOTE && bytesKeys.has(key)) {
        const q = v.indexOf(QUOTE, i + 1);
        if (q < 0) return null;
        const bytes = this.base64InView(v, i + 1, q, reuse);
        if (!bytes) return null;
        o[key] = bytes;
        i = q + 1;
      } else if (c === 0x7b && nestKeys.has(key) && depth < 8) {
        const inner = this.objectInView(v, i, bytesKeys, nestKeys, depth + 1, reuse);
        if (!inner) return null;
        o[key] = inner.o;
        i = inner.end;
      } else {
        const rest = v.subarray(i);
        let len = c === QUOTE ? plainString(rest.subarray(0, 128)) : c === 0x2d || isDigit(c) ? plainInteger(rest) : -1;
        if (len > 0) {
          o[key] = c === QUOTE ? (len === 2 ? "" : String.fromCharCode.apply(null, rest.subarray(1, len - 1) as unknown as number[])) : intOf(rest, len);
        } else {
          try {
            len = scanValue(rest, 0, false, 0);
          } catch {
            return null;
          }
          if (len < 0 || len > this.maxValue) return null;
          o[key] = JSON.parse(td.decode(rest.subarray(0, len)));
        }
        i += len;
      }
      i = blank(i);
      if (i >= n) return null;
      if (v[i] === 0x7d) return { o, end: i + 1 };
      if (v[i] !== 0x2c) return null;
      i = blank(i + 1);
    }
  }

  /** Base64 text `v[from, to)` decoded, or null if it is anything but plain padded base64. */
  private base64InView(v: Uint8Array, from: number, to: number, reuse: boolean): Uint8Array | null {
    const len = to - from;
    if (len % 4 !== 0) return null;
    if (len === 0) return new Uint8Array(0);
    const max = (len >> 2) * 3;
    let into: Uint8Array;
    if (reuse) {
      let a = (this.arena ??= new Uint8Array(1 << 20));
      if (a.byteLength - this.arenaUsed < max + SLACK) {
        a = this.arena = new Uint8Array(Math.max(a.byteLength * 2, max + SLACK));
        this.arenaUsed = 0;
      }
      into = a.subarray(this.arenaUsed, this.arenaUsed + max + SLACK);
    } else into = new Uint8Array(max + SLACK);
    const dout = new DataView(into.buffer, into.byteOffset, into.byteLength);
    // All quartets but the last through the fast loop; the last may be padded.
    const body = (len >> 2) - 1;
    let o = body > 0 ? quartets(v, from, body, dout, 0) : 0;
    if (o !== body * 3) return null;
    const t = from + (body << 2);
    const a = B64[v[t]!]!;
    const b = B64[v[t + 1]!]!;
    const pad = v[t + 3] === 0x3d ? (v[t + 2] === 0x3d ? 2 : 1) : 0;
    const c = pad === 2 ? 0 : B64[v[t + 2]!]!;
    const d = pad ? 0 : B64[v[t + 3]!]!;
    if ((a | b | c | d) < 0) return null;
    const x = (a << 18) | (b << 12) | (c << 6) | d;
    into[o++] = x >>> 16;
    if (pad < 2) into[o++] = (x >>> 8) & 255;
    if (pad < 1) into[o++] = x & 255;
    if (reuse) this.arenaUsed += (o + 7) & ~7;
    return into.subarray(0, o);
  }

  /** A fault in what valid JSON says (bad base64). */
  private bad(what: string, offset: number, found: number): MalformedError {
    return new MalformedError(what, offset, { found: shown(found) });
  }

  /** A place where the text stops being JSON. */
  private fault(what: string, offset: number, found: number): MalformedError {
    return new MalformedError(`not valid JSON: ${what}`, offset, { found: shown(found) });
  }
}

/**
 * Up to `quads` quartets of alphabet characters from `v[i]` decoded into `out`
 * at `o`, stopping before any other character; returns where the output
 * stopped. Apart from the async reader so its variables stay in registers.
 */
function quartets(v: Uint8Array, i: number, quads: number, out: DataView, o: number): number {
  const din = new DataView(v.buffer, v.byteOffset + i, quads << 2);
  const end = quads << 2;
  for (let k = 0; k < end; k += 4) {
    const x = din.getUint32(k, true);
    const h = B64_PAIR[x & 0xffff]!;
    const l = B64_PAIR[x >>> 16]!;
    if ((h | l) < 0) break;
    // Big-endian: the three bytes, then one the next triplet (or the slack) overwrites.
    out.setUint32(o, (h << 20) | (l << 8));
    o += 3;
  }
  return o;
}

/** 2 or 6 for a whole valid escape at `i`, 0 if it runs past `v`, -1 if invalid. */
function escapeLength(v: Uint8Array, i: number): number {
  if (i + 1 >= v.length) return 0;
  const e = v[i + 1]!;
  if (e === 0x75) {
    if (i + 6 > v.length) return 0;
    for (let k = i + 2; k < i + 6; k++) if (!isHex(v[k]!)) return -1;
    return 6;
  }
  return e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74 ? 2 : -1;
}

/**
 * Length (quotes included) of the string at `v[0]` when it is short, whole in
 * view, and plain (printable ASCII, no escape); else -1 (the general path).
 */
function plainString(v: Uint8Array): number {
  const end = Math.min(v.byteLength, 128);
  for (let k = 1; k < end; k++) {
    const b = v[k]!;
    if (b === QUOTE) return k + 1;
    if (b === BACKSLASH || b < 0x20 || b >= 0x80) return -1;
  }
  return -1;
}

/**
 * Length of the integer at `v[0]` when it is a safe one whose end is in view
 * (the next byte is none of a number's); else -1 (the general path checks it).
 */
function plainInteger(v: Uint8Array): number {
  let k = v[0] === 0x2d ? 1 : 0;
  const first = k;
  while (k < v.byteLength && k - first < 16 && isDigit(v[k]!)) k++;
  if (k === first || k >= v.byteLength || k - first > 15) return -1;
  if (v[first] === 0x30 && k - first > 1) return -1;
  const b = v[k]!;
  if (isDigit(b) || b === 0x2e || b === 0x65 || b === 0x45) return -1;
  return k;
}

function intOf(v: Uint8Array, n: number): number {
  const neg = v[0] === 0x2d;
  let x = 0;
  for (let k = neg ? 1 : 0; k < n; k++) x = x * 10 + (v[k]! - 0x30);
  return neg ? -x : x;
}

const isHex = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

const enum S {
  Value,
  ValueOrClose,
  Key,
  KeyOrClose,
  Colon,
  CommaOrClose,
}

/**
 * Check the JSON value that starts (after blanks) at `v[i]` strictly and
 * return the index just past it; -1 when it runs past the end of `v` and
 * more input may come (`eof` false). Faults (and, at `eof`, an early end)
 * throw a MalformedError at `base` + the index of the offending byte.
 * Iterative: nesting depth costs memory, never stack.
 */
export function scanValue(v: Uint8Array, i: number, eof: boolean, base: number): number {
  const n = v.length;
  const stack: number[] = []; // 1 object, 0 array
  let s: S = S.Value;
  const fail = (what: string, at: number): never => {
    throw new MalformedError(`not valid JSON: ${what}`, base + at, { found: shown(at < n ? v[at]! : -1) });
  };
  for (;;) {
    while (i < n && isBlank(v[i]!)) i++;
    if (i >= n) {
      if (!eof) return -1;
      fail(s === S.Colon ? "':' expected" : s === S.CommaOrClose ? `',' or '${stack[stack.length - 1] ? "}" : "]"}' expected` : s === S.Key || s === S.KeyOrClose ? "a string key expected" : "a value expected", i);
    }
    const b = v[i]!;
    switch (s) {
      case S.Colon:
        if (b !== 0x3a) fail("':' expected", i);
        i++;
        s = S.Value;
        continue;
      case S.CommaOrClose: {
        const obj = stack[stack.length - 1] === 1;
        if (b === 0x2c) {
          i++;
          s = obj ? S.Key : S.Value;
        } else if (b === (obj ? 0x7d : 0x5d)) {
          i++;
          stack.pop();
          if (stack.length === 0) return i;
        } else fail(`',' or '${obj ? "}" : "]"}' expected`, i);
        continue;
      }
      case S.Key:
      case S.KeyOrClose:
        if (b === 0x7d && s === S.KeyOrClose) {
          i++;
          stack.pop();
          if (stack.length === 0) return i;
          s = S.CommaOrClose;
          continue;
        }
        if (b !== QUOTE) fail("a string key expected", i);
        break;
      case S.ValueOrClose:
        if (b === 0x5d) {
          i++;
          stack.pop();
          if (stack.length === 0) return i;
          s = S.CommaOrClose;
          continue;
        }
        break;
      case S.Value:
        break;
    }
    // A key (a string) or a value starts at i.
    if (b === QUOTE) {
      let k = i + 1;
      for (;;) {
        if (k >= n) {
          if (!eof) return -1;
          fail("the string does not end", k);
        }
        const c = v[k]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          const e = escapeLength(v, k);
          if (e < 0) fail("invalid escape in a string", k);
          if (e === 0) {
            if (!eof) return -1;
            fail("the string does not end", n);
          }
          k += e;
          continue;
        }
        if (c < 0x20) fail("control character in a string", k);
        k++;
      }
      i = k + 1;
      s = (s as S) === S.Key || (s as S) === S.KeyOrClose ? S.Colon : S.CommaOrClose;
    } else if (b === 0x7b || b === 0x5b) {
      stack.push(b === 0x7b ? 1 : 0);
      i++;
      s = b === 0x7b ? S.KeyOrClose : S.ValueOrClose;
      continue;
    } else if (b === 0x74 || b === 0x66 || b === 0x6e) {
      const word = b === 0x74 ? "true" : b === 0x66 ? "false" : "null";
      for (let k = 0; k < word.length; k++) {
        if (i + k >= n) {
          if (!eof) return -1;
          fail("a value expected", n);
        }
        if (v[i + k] !== word.charCodeAt(k)) fail("a value expected", i);
      }
      i += word.length;
      s = S.CommaOrClose;
    } else if (b === 0x2d || isDigit(b)) {
      let k = i;
      if (v[k] === 0x2d) k++;
      if (k < n && v[k] === 0x30) k++;
      else if (k < n && isDigit(v[k]!)) while (k < n && isDigit(v[k]!)) k++;
      else if (k < n || eof) fail("invalid number", k);
      if (k < n && v[k] === 0x2e) {
        k++;
        if (k < n && !isDigit(v[k]!)) fail("invalid number", k);
        while (k < n && isDigit(v[k]!)) k++;
      }
      if (k < n && (v[k] === 0x65 || v[k] === 0x45)) {
        k++;
        if (k < n && (v[k] === 0x2b || v[k] === 0x2d)) k++;
        if (k < n && !isDigit(v[k]!)) fail("invalid number", k);
        while (k < n && isDigit(v[k]!)) k++;
      }
      if (k >= n && !eof) return -1; // the number may go on
      if (k >= n && !isDigit(v[k - 1]!)) fail("invalid number", k);
      i = k;
      s = S.CommaOrClose;
    } else {
      fail("a value expected", i);
    }
    if (stack.length === 0) return i;
  }
}

/**
 * Parse a whole JSON document held in memory (small documents: schemas,
 * dumps). A fault is a MalformedError at its byte offset.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  let i = 0;
  while (i < bytes.length && isBlank(bytes[i]!)) i++;
  const end = scanValue(bytes, i, true, 0);
  let k = end;
  while (k < bytes.length && isBlank(bytes[k]!)) k++;
  if (k < bytes.length) throw new MalformedError("not valid JSON: nothing expected after the document", k, { found: shown(bytes[k]!) });
  return JSON.parse(td.decode(bytes.subarray(i, end)));
}
