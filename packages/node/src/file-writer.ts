/** The output side of `atomicFileSink`: synchronous, coalescing writes at explicit offsets. */
import { writeSync } from "node:fs";

/** Small writes are gathered into one buffer of this size and written together. */
const GATHER = 4 << 20;
/** A chunk at least this large is written straight from the caller's buffer: no copy in JS. */
const DIRECT = 256 << 10;

/**
 * Writes to a file descriptor with pwrite(2), on the calling thread. Small
 * chunks (record headers) are copied into a gather buffer; large ones (page
 * payloads, views of the reader's buffer) are written straight from the
 * caller's memory, so a payload is copied only by the kernel, as `cp` copies
 * it. Every call has taken its bytes when it returns (the caller may reuse
 * its buffer at once), with no thread-pool round trip per write: on a
 * two-core machine the hand-off to a writer thread cost more than the
 * overlap it bought (scripts/bench/performance-notes.md).
 */
export class FileWriter {
  /** File offset of gather[0]. */
  private pos = 0;
  private gather: Uint8Array | null = null;
  private used = 0;
  /** A hole was left: the file's size may need setting at the end. */
  holes = false;

  constructor(private readonly fd: number) {}

  /** Offset just after the last byte written or left as a hole. */
  get position(): number {
    return this.pos + this.used;
  }

  write(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (n >= DIRECT) {
      this.flush();
      this.writeAll(chunk, this.pos);
      this.pos += n;
      return;
    }
    this.gather ??= new Uint8Array(GATHER);
    if (n > GATHER - this.used) this.flush();
    this.gather.set(chunk, this.used);
    this.used += n;
  }

  /** Leave `n` bytes unwritten (a hole in the file). */
  hole(n: number): void {
    this.flush();
    this.pos += n;
    this.holes = true;
  }

  /**
   * Write `chunk` at `pos`, out of sequence. Gathered bytes not yet written
   * are written after it, as if they came later: the order the calls were made.
   */
  writeAt(pos: number, chunk: Uint8Array): void {
    this.writeAll(chunk, pos);
  }

  /** Write what is gathered. */
  flush(): void {
    if (this.used === 0) return;
    const n = this.used;
    this.used = 0;
    this.writeAll(this.gather!.subarray(0, n), this.pos);
    this.pos += n;
  }

  private writeAll(chunk: Uint8Array, at: number): void {
    for (let off = 0; off < chunk.byteLength; ) off += writeSync(this.fd, chunk, off, chunk.byteLength - off, at + off);
  }
}
