import { ByteReader } from "./byte-reader.js";
import { TruncatedError } from "./errors.js";
import type { Sink } from "./sink.js";
import { bytesSource, type Source } from "./source.js";

const AFTER_SEEK_READ = 64 << 10;
/**
 * Room kept in front of a read-ahead chunk: the unread tail of the previous
 * chunk (usually part of a record header) is copied there, so the new chunk
 * becomes the buffer without copying it.
 */
const AHEAD_HEAD = 64 << 10;

export interface StreamReaderOptions {
  /** Size of each read from the source (default 4 MiB: fewer syscalls and thread-pool hand-offs). */
  chunkSize?: number;
  /** Called with the absolute offset after each refill, for progress bars. */
  onProgress?: (offset: number) => void;
  /**
   * While the stream is read sequentially, keep the next chunk's read in
   * flight so the source works while the caller decodes (default false; worth
   * it for files, whose reads are thread-pool round trips). Doubles the buffer
   * memory; never reads ahead after a seek.
   */
  readAhead?: boolean;
}

/**
 * Buffered, forward-only reader over a Source. Memory holds at most the largest
 * contiguous piece a decoder asks for plus one chunk, never the whole stream.
 * Asking for `n` bytes never allocates more than twice what the source has
 * actually delivered, so a hostile length field cannot make us allocate it.
 *
 * Usage on hot paths: `if (r.buffered < n) await r.fill(n)` then sync `take`.
 */
export class StreamReader {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;
  private eof = false;
  /** The last skip seeked or read through a short gap: the next refill reads only a little (see readMore). */
  private sought = false;
  /** Absolute stream offset of buf[start]. */
  private pos = 0;
  private readonly chunk: number;
  private readonly onProgress: ((offset: number) => void) | undefined;
  private readonly readAhead: boolean;
  /** The read in flight into `spare` (at AHEAD_HEAD): the bytes right after `buf[end]`. */
  private ahead: Promise<number> | null = null;
  private spare: Uint8Array | null = null;
  /** AHEAD_HEAD, or less for small chunks. */
  private readonly head: number;
  /** Pass-through (see `passThrough`): where consumed bytes go, and buf[passed] is the first not yet written there. */
  private passOut: Pick<Sink, "write"> | null = null;
  private passed = 0;
  readonly source: Source;

  constructor(source: Source, opts: StreamReaderOptions = {}) {
    this.source = source;
    this.chunk = opts.chunkSize ?? 4 << 20;
    this.readAhead = opts.readAhead === true;
    this.head = Math.min(AHEAD_HEAD, this.chunk);
    this.buf = new Uint8Array(this.readAhead ? this.head + this.chunk : this.chunk);
    this.onProgress = opts.onProgress;
    // A file's first read serves format detection and a header; most of what
    // follows may be sought over (verify of page records): read 64 KiB first,
    // not a whole chunk (a 4 MiB read into fresh memory cost ~15 ms of a verify).
    this.sought = source.seek !== undefined && source.size !== undefined;
  }

  static of(bytes: Uint8Array): StreamReader {
    return new StreamReader(bytesSource(bytes), { chunkSize: Math.max(16, Math.min(bytes.byteLength, 1 << 20)) });
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.pos;
  }
  /**
   * Whether `view` lies in this reader's buffer (a view `take` gave out, still
   * valid): SameBytes holds such a view instead of copying it.
   */
  holds(view: Uint8Array): boolean {
    return view.buffer === this.buf.buffer;
  }

  /** Bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.end - this.start;
  }
  /** Total stream size when the source knows it. */
  get size(): number | undefined {
    return this.source.size;
  }

  /**
   * Buffer at least `n` contiguous bytes. Resolves false when the stream ends
   * first (then `buffered` tells how many there are).
   */
  async fill(n: number): Promise<boolean> {
    while (this.end - this.start < n) {
      if (this.eof) return false;
      const have = this.end - this.start;
      const size = this.source.size;
      if (size !== undefined && this.pos + n > size) {
        // Known size: read what is left and report the shortfall without a big allocation.
        if (!(await this.readMore(Math.min(n, size - this.pos) - have))) return false;
        continue;
      }
      if (!(await this.readMore(n - have))) return false;
    }
    return true;
  }

  /** Like fill, but a shortfall is a TruncatedError naming `what`. */
  async need(n: number, what = "data"): Promise<void> {
    if (this.end - this.start >= n) return;
    if (!(await this.fill(n))) throw new TruncatedError(what, this.pos, n, this.end - this.start);
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    if (this.end > this.start) return false;
    return !(await this.fill(1));
  }

  /** A view of the next `n` buffered bytes, consumed. Valid until the next fill. */
  take(n: number): Uint8Array {
    if (n > this.end - this.start) throw new TruncatedError("data", this.pos, n, this.end - this.start);
    const v = this.buf.subarray(this.start, this.start + n);
    this.start += n;
    this.pos += n;
    return v;
  }
  /** Consume `n` buffered bytes without making a view of them. */
  discard(n: number): void {
    if (n > this.end - this.start) throw new TruncatedError("data", this.pos, n, this.end - this.start);
    this.start += n;
    this.pos += n;
  }
  /**
   * Consume the next `n` buffered bytes if they are all zero (padding, in hot
   * loops: no view is made); otherwise consume nothing and return false, for
   * the caller to report the fault from a `take`.
   */
  skipZeros(n: number): boolean {
    if (n > this.end - this.start) return false;
    if (!allZero(this.buf, this.start, this.start + n)) return false;
    this.start += n;
    this.pos += n;
    return true;
  }
  /** A view of the next `n` buffered bytes, not consumed. */
  peek(n: number): Uint8Array {
    const k = Math.min(n, this.end - this.start);
    return this.buf.subarray(this.start, this.start + k);
  }
  /** A ByteReader over the next `n` buffered bytes (consumed), keeping absolute offsets. */
  reader(n: number): ByteReader {
    const base = this.pos;
    return new ByteReader(this.take(n), base);
  }
  /** await need(n) then reader(n). */
  async read(n: number, what = "data"): Promise<ByteReader> {
    await this.need(n, what);
    return this.reader(n);
  }

  /**
   * From now on, write every byte consumed (taken, discarded, skipped, piped,
   * read into) to `out` as well, in the large pieces the buffer holds: a
   * checked stream is copied through from the reader's own memory, with no
   * re-framing and no copy in JS. The pieces are written when the buffer is
   * refilled, so a view from `take` stays valid as usual; `skip` reads what
   * it would seek over. `endPassThrough` writes the rest.
   */
  passThrough(out: Pick<Sink, "write">): void {
    this.passOut = out;
    this.passed = this.start;
  }

  /** Write what was consumed and not yet passed through, and stop passing bytes through. */
  async endPassThrough(): Promise<void> {
    await this.flushPassed();
    this.passOut = null;
  }

  /** Write buf[passed, start) to the pass-through output (before the buffer's bytes move). */
  private async flushPassed(): Promise<void> {
    if (this.passOut === null) return;
    const from = this.passed;
    this.passed = this.start;
    if (this.start > from) {
      const p = this.passOut.write(this.buf.subarray(from, this.start));
      if (p) await p;
    }
  }

  /** Pass through into[from, to), read by readInto straight from the source. */
  private async passRead(into: Uint8Array, from: number, to: number): Promise<void> {
    if (this.passOut === null || to <= from) return;
    const p = this.passOut.write(into.subarray(from, to));
    if (p) await p;
  }

  /** Discard `n` bytes, seeking on sources that can. */
  async skip(n: number, what = "data"): Promise<void> {
    if (this.ahead && n > this.end - this.start) await this.landAhead();
    const startOffset = this.pos;
    const inBuf = Math.min(n, this.end - this.start);
    this.start += inBuf;
    this.pos += inBuf;
    let left = n - inBuf;
    if (left === 0) return;
    // Passing bytes through: what is skipped is read (in whole chunks) to be written.
    if (this.passOut !== null) {
      while (left > 0) {
        if (!(await this.fill(Math.min(left, this.chunk)))) {
          if (this.end === this.start) throw new TruncatedError(what, startOffset, n, n - left);
        }
        const k = Math.min(left, this.end - this.start);
        this.start += k;
        this.pos += k;
        left -= k;
      }
      return;
    }
    // A short remainder is cheaper to read through than to seek over.
    if (this.source.seek && !this.eof && left >= AFTER_SEEK_READ) {
      const size = this.source.size;
      if (size !== undefined && this.pos + left > size) {
        throw new TruncatedError(what, startOffset, n, size - startOffset);
      }
      const k = await this.source.seek(left);
      this.sought = true;
      this.pos += k;
      left -= k;
      if (left > 0) {
        this.eof = true;
        throw new TruncatedError(what, startOffset, n, n - left);
      }
      return;
    }
    // A bulk skip on a seekable source whose remainder is short: read just
    // the remainder, not a chunk of what follows (usually skipped in turn).
    // Small skips (small records) keep reading whole chunks.
    const little = this.source.seek !== undefined && n >= AFTER_SEEK_READ;
    while (left > 0) {
      if (little) this.sought = true;
      if (!(await this.fill(1))) throw new TruncatedError(what, startOffset, n, n - left);
      const k = Math.min(left, this.end - this.start);
      this.start += k;
      this.pos += k;
      left -= k;
    }
  }

  /**
   * Fill all of `into` with the next bytes: what is buffered is copied, the
   * rest is read by the source straight into `into` (no second copy), so a
   * caller alternating its own buffers can overlap reads with writes.
   */
  async readInto(into: Uint8Array, what = "data"): Promise<void> {
    if (this.ahead && into.byteLength > this.end - this.start) await this.landAhead();
    const startOffset = this.pos;
    const n = into.byteLength;
    const k = Math.min(n, this.end - this.start);
    into.set(this.buf.subarray(this.start, this.start + k));
    this.start += k;
    this.pos += k;
    let got = k;
    // Passing through: the buffered part goes out first, the rest from `into` once read.
    if (got < n && this.passOut !== null) await this.flushPassed();
    while (got < n) {
      const r = this.eof ? 0 : await this.source.read(into.subarray(got));
      if (r === 0) {
        this.eof = true;
        await this.passRead(into, k, got);
        throw new TruncatedError(what, startOffset, n, got);
      }
      got += r;
      this.pos += r;
    }
    await this.passRead(into, k, n);
    this.onProgress?.(this.pos);
  }

  /**
   * Copy the next `n` bytes to `sink` in buffer-sized pieces (a bulk payload
   * passes through without being held whole).
   */
  async pipe(n: number, sink: Pick<Sink, "write">, what = "data"): Promise<void> {
    const startOffset = this.pos;
    let left = n;
    while (left > 0) {
      if (this.end === this.start && !(await this.fill(Math.min(left, this.chunk)))) {
        if (this.end === this.start) throw new TruncatedError(what, startOffset, n, n - left);
      }
      const k = Math.min(left, this.end - this.start);
      const v = this.buf.subarray(this.start, this.start + k);
      this.start += k;
      this.pos += k;
      left -= k;
      await sink.write(v);
    }
  }

  async close(): Promise<void> {
    // Let a read in flight finish before its descriptor goes away.
    await this.ahead?.catch(() => 0);
    this.ahead = null;
    await this.source.close?.();
  }

  /** Read at least `want` more bytes into the buffer; false at end of stream. */
  private async readMore(want: number): Promise<boolean> {
    if (this.ahead) {
      const ok = await this.landAhead();
      if (ok) this.startAhead();
      return ok;
    }
    const sequential = !this.sought;
    const have = this.end - this.start;
    // A short remainder moves to the buffer's front, so the read lands in
    // memory touched before: a first touch costs a page fault per 4 KiB
    // (~30 µs on a VM), and a verify reading 64 KiB after each of 128 seeks
    // walked all of a fresh 4 MiB buffer that way (~30 ms of a 0.25 s run).
    if (this.start > 0 && have <= AFTER_SEEK_READ) {
      // Bytes consumed and not yet passed through are about to be overwritten.
      if (this.passOut !== null) await this.flushPassed();
      this.passed = 0;
      this.buf.copyWithin(0, this.start, this.end);
      this.start = 0;
      this.end = have;
    }
    // Grow geometrically from what is actually present, never straight to `want`.
    const target = have + Math.min(want, Math.max(this.chunk, have));
    if (target > this.buf.byteLength - this.start) {
      // The consumed bytes are about to be overwritten: pass them through first.
      if (this.passOut !== null) await this.flushPassed();
      this.passed = 0;
      if (target <= this.buf.byteLength) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const nb = new Uint8Array(Math.max(target, this.chunk));
        nb.set(this.buf.subarray(this.start, this.end));
        this.buf = nb;
      }
      this.start = 0;
      this.end = have;
    }
    let got = 0;
    const min = Math.min(want, this.buf.byteLength - this.end);
    // After a seek over bulk data the next thing is usually a small header and
    // then more bulk to seek over: read what is asked (at least 64 KiB), not a
    // whole chunk that would mostly be skipped again.
    const limit = this.sought ? Math.min(this.buf.byteLength, this.end + Math.max(min, AFTER_SEEK_READ)) : this.buf.byteLength;
    this.sought = false;
    // A pipe hands over at most what it holds (64 KiB to 1 MiB a read): read on
    // until the buffer is full, so that what a caller does per refill (an await,
    // a bulk check of the records that arrived) happens once a chunk, not once
    // a pipe-full. A file's read already returns all that is asked.
    const goal = this.source.size === undefined ? Math.max(min, limit - this.end) : min;
    while (got < goal) {
      const k = await this.source.read(this.buf.subarray(this.end, limit));
      if (k === 0) {
        this.eof = true;
        break;
      }
      this.end += k;
      got += k;
    }
    this.onProgress?.(this.pos + (this.end - this.start));
    if (got > 0 && sequential) this.startAhead();
    return got > 0;
  }

  private startAhead(): void {
    if (!this.readAhead || this.eof || this.ahead) return;
    if (this.spare === null || this.spare.byteLength < this.head + this.chunk) this.spare = new Uint8Array(this.head + this.chunk);
    this.ahead = this.source.read(this.spare.subarray(this.head, this.head + this.chunk));
    // Its failure is reported when it is awaited (landAhead), not as an unhandled rejection.
    this.ahead.catch(() => {});
  }

  /**
   * Make the read-ahead chunk part of the buffer. Usually the chunk becomes
   * the buffer (the short unread tail is copied in front of it) and the old
   * buffer becomes the spare; a long unread tail stays put and the chunk is
   * appended to it instead.
   */
  private async landAhead(): Promise<boolean> {
    const p = this.ahead!;
    this.ahead = null;
    const k = await p;
    if (k === 0) {
      this.eof = true;
      return false;
    }
    if (this.passOut !== null) await this.flushPassed();
    const spare = this.spare!;
    const have = this.end - this.start;
    if (have <= this.head) {
      spare.set(this.buf.subarray(this.start, this.end), this.head - have);
      this.spare = this.buf;
      this.buf = spare;
      this.start = this.head - have;
      this.end = this.head + k;
      this.passed = this.start;
    } else {
      if (this.buf.byteLength - this.end < k) {
        const room = have + k;
        if (room <= this.buf.byteLength) this.buf.copyWithin(0, this.start, this.end);
        else {
          const nb = new Uint8Array(room);
          nb.set(this.buf.subarray(this.start, this.end));
          this.buf = nb;
        }
        this.start = 0;
        this.end = have;
        this.passed = 0;
      }
      this.buf.set(spare.subarray(this.head, this.head + k), this.end);
      this.end += k;
    }
    this.onProgress?.(this.pos + (this.end - this.start));
    return true;
  }
}

/**
 * True when b[from, to) is all zero. Long runs (a mapped-ram file's alignment
 * gap, megabytes of it) are tested four bytes at a time through a word view
 * of the aligned middle: ~4× fewer iterations than a byte loop.
 */
function allZero(b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  if (to - from >= 256) {
    const head = (4 - ((b.byteOffset + i) & 3)) & 3;
    for (const e = i + head; i < e; i++) if (b[i] !== 0) return false;
    const words = (to - i) >>> 2;
    const w = new Uint32Array(b.buffer, b.byteOffset + i, words);
    let k = 0;
    // Eight words per step: gaps of megabytes are checked before V8 has optimised this loop.
    for (; k + 8 <= words; k += 8) if ((w[k]! | w[k + 1]! | w[k + 2]! | w[k + 3]! | w[k + 4]! | w[k + 5]! | w[k + 6]! | w[k + 7]!) !== 0) return false;
    for (; k < words; k++) if (w[k] !== 0) return false;
    i += words << 2;
  }
  for (; i < to; i++) if (b[i] !== 0) return false;
  return true;
}

/** Read the rest of a stream into memory (for small inputs and tests only). */
export async function readAll(r: StreamReader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (await r.fill(1)) {
    const v = r.take(r.buffered).slice();
    parts.push(v);
    total += v.byteLength;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}
