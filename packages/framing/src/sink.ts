/**
 * Where encoded bytes go. `write` may be called with a view into a buffer the
 * caller reuses: a sink must be done with (or have copied) the bytes when its
 * promise resolves.
 */
export interface Sink {
  /** Returns nothing when the bytes were taken at once; await a returned promise before the next write. */
  write(chunk: Uint8Array): void | Promise<void>;
  /**
   * True when `write` copies small chunks into large buffers of its own (the
   * output file sink does): a record-by-record writer then needs no batching
   * layer of its own, and each byte is copied once instead of twice.
   */
  readonly coalesces?: boolean;
  /**
   * Advance past `n` bytes without writing them (optional): an output file
   * keeps them as a hole that reads as zeros. Writers that lay bytes out at
   * file offsets (QEMU mapped-ram) write zeros where a sink has no `hole`.
   */
  hole?(n: number): void | Promise<void>;
  /**
   * Write `chunk` at absolute offset `pos` (optional; output files only), for
   * layouts whose bytes arrive out of file order. Never past the sequential
   * end at close: the file's size is where sequential writing ended.
   */
  writeAt?(pos: number, chunk: Uint8Array): Promise<void>;
  /** All bytes written: make the output visible (rename a temporary file…). */
  close(): Promise<void>;
  /** Failure: discard everything (no partial output file is left). */
  abort?(): Promise<void>;
}

/** Collects everything in memory; `bytes()` joins it. For tests and small outputs. */
export class MemorySink implements Sink {
  private parts: Uint8Array[] = [];
  length = 0;
  closed = false;
  write(chunk: Uint8Array): void {
    this.parts.push(chunk.slice());
    this.length += chunk.byteLength;
  }
  async writeAt(pos: number, chunk: Uint8Array): Promise<void> {
    const all = this.bytes();
    const out = pos + chunk.byteLength > all.byteLength ? new Uint8Array(pos + chunk.byteLength) : all;
    if (out !== all) out.set(all);
    out.set(chunk, pos);
    this.parts = [out];
    this.length = out.byteLength;
  }
  hole(n: number): void {
    this.write(new Uint8Array(n));
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  async abort(): Promise<void> {
    this.parts = [];
    this.length = 0;
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    this.parts = [out];
    return out;
  }
}

/**
 * Coalesces small writes into large ones (4 MiB by default) so a record-by-record
 * encoder does not make one syscall per record. Large chunks pass straight through.
 * A write that fits is taken synchronously (no promise).
 */
export class BufferedSink implements Sink {
  private buf: Uint8Array;
  private used = 0;
  readonly coalesces = true;
  constructor(
    private readonly inner: Sink,
    size = 4 << 20,
  ) {
    this.buf = new Uint8Array(size);
  }
  write(chunk: Uint8Array): void | Promise<void> {
    const n = chunk.byteLength;
    if (n < this.buf.byteLength >>> 1 && this.used + n <= this.buf.byteLength) {
      this.buf.set(chunk, this.used);
      this.used += n;
      return;
    }
    return this.writeSlow(chunk);
  }
  private async writeSlow(chunk: Uint8Array): Promise<void> {
    if (chunk.byteLength >= this.buf.byteLength >>> 1) {
      await this.flush();
      await this.inner.write(chunk);
      return;
    }
    await this.flush();
    this.buf.set(chunk, 0);
    this.used = chunk.byteLength;
  }
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const v = this.buf.subarray(0, this.used);
    this.used = 0;
    await this.inner.write(v);
  }
  async close(): Promise<void> {
    await this.flush();
    await this.inner.close();
  }
  async abort(): Promise<void> {
    this.used = 0;
    await this.inner.abort?.();
  }
}

/** What a record writer needs: `write`, and `flush` once at the end (before the sink is closed). */
export interface BatchedSink {
  write(chunk: Uint8Array): void | Promise<void>;
  flush(): Promise<void>;
}

/**
 * `out` itself when it already coalesces small writes, else a BufferedSink
 * over it: so bytes are copied into a large buffer exactly once.
 */
export function batched(out: Sink): BatchedSink {
  if (out instanceof BufferedSink) return out;
  if (out.coalesces) return { write: (c) => out.write(c), flush: async () => {} };
  return new BufferedSink(out);
}
