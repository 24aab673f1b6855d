/** Write-behind slots for output files (see `atomicFileSink`). */
import type { FileHandle } from "node:fs/promises";

/** Bytes per write-behind slot, and slots (one being written, one being filled). */
const WB_SLOT = 4 << 20;
const WB_SLOTS = 2;

/**
 * Write-behind for output files: `write` copies the chunk into the slot being
 * filled and returns at once (no promise) while the thread pool writes full
 * slots, so reading and decoding the next piece overlaps the previous write
 * instead of waiting for it, and record writers need no batching of their own.
 * Writes are chained, one in flight at a time: two concurrent pwrite(2) calls
 * on one file contend for its inode lock and cost far more system time than
 * they save. A failed write is reported by the next `write` or `drain`.
 */
export class WriteBehind {
  /** File offset of the next byte to submit. */
  private pos = 0;
  private cur: Uint8Array | null = null;
  private used = 0;
  private readonly free: Uint8Array[] = [];
  private allocated = 0;
  private tail: Promise<void> = Promise.resolve();
  private error: unknown = null;
  private waiters: Array<() => void> = [];

  constructor(private readonly fh: FileHandle) {}

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.error) throw this.error;
    const cur = this.cur;
    if (cur !== null && chunk.byteLength <= cur.byteLength - this.used) {
      cur.set(chunk, this.used);
      this.used += chunk.byteLength;
      if (this.used === cur.byteLength) this.submit();
      return;
    }
    return this.writeSlow(chunk);
  }

  private async writeSlow(chunk: Uint8Array): Promise<void> {
    for (let off = 0; off < chunk.byteLength; ) {
      if (this.cur === null) {
        // Every slot taken: wait for the write in flight to finish.
        while (this.free.length === 0 && this.allocated >= WB_SLOTS && !this.error) await this.oneDone();
        if (this.error) throw this.error;
        if (this.free.length > 0) this.cur = this.free.pop()!;
        else {
          this.cur = new Uint8Array(WB_SLOT);
          this.allocated++;
        }
        this.used = 0;
      }
      const n = Math.min(this.cur.byteLength - this.used, chunk.byteLength - off);
      this.cur.set(chunk.subarray(off, off + n), this.used);
      this.used += n;
      off += n;
      if (this.used === this.cur.byteLength) this.submit();
    }
  }

  /** Queue the filled part of the current slot for writing. */
  private submit(): void {
    const slot = this.cur!;
    const n = this.used;
    const at = this.pos;
    this.cur = null;
    this.used = 0;
    this.pos += n;
    this.tail = this.tail.then(async () => {
      try {
        if (!this.error) await this.writeAll(slot, n, at);
      } catch (e) {
        this.error ??= e;
      } finally {
        this.free.push(slot);
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
  }

  private oneDone(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async writeAll(slot: Uint8Array, n: number, at: number): Promise<void> {
    for (let off = 0; off < n; ) {
      const { bytesWritten } = await this.fh.write(slot, off, n - off, at + off);
      off += bytesWritten;
    }
  }

  /** A hole was left: the file's size may need setting at the end. */
  holes = false;
  get position(): number {
    return this.pos + this.used;
  }

  /** Write a copy of `chunk` at `pos`, in turn with the slots (one write in flight at a time). */
  writeAt(pos: number, chunk: Uint8Array): Promise<void> {
    if (this.error) throw this.error;
    const copy = chunk.slice();
    const done = this.tail.then(async () => {
      if (!this.error) await this.writeAll(copy, copy.byteLength, pos);
    });
    this.tail = done.catch((e) => {
      this.error ??= e;
    });
    return this.tail;
  }

  /** Leave `n` bytes unwritten (a hole in the file). */
  hole(n: number): void {
    if (this.error) throw this.error;
    if (this.cur !== null && this.used > 0) this.submit();
    this.pos += n;
    this.holes = true;
  }

  async drain(): Promise<void> {
    if (this.cur !== null && this.used > 0) this.submit();
    await this.tail;
    if (this.error) throw this.error;
  }
}

