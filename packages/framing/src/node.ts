/**
 * Node-only entry point (`@vmstream/framing/node`): files, standard input and
 * atomic output files. The main entry stays browser-safe.
 */
import { existsSync, fstatSync, readSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import {
  CTL_ERROR,
  CTL_LENGTHS,
  CTL_READ,
  CTL_STATE,
  CTL_WRITE,
  RING_SLOTS,
  RING_SLOT_SIZE,
  type RingInit,
  STATE_GO,
  STATE_QUIT,
  STATE_READY,
} from "./pipe-ring.js";
import type { Sink } from "./sink.js";
import type { Source } from "./source.js";

/*
 * child_process and worker_threads serve only long pipes (the pipe resize and
 * the reader thread), yet loading them costs ~40 ms of every start: they are
 * loaded on first use instead (docs/performance.md, start-up).
 */
const requireBuiltin = createRequire(import.meta.url);
const childProcess = (): typeof import("node:child_process") => requireBuiltin("node:child_process");
const workerThreads = (): typeof import("node:worker_threads") => requireBuiltin("node:worker_threads");

/** A regular file: reads go straight into the caller's buffer; seeks cost nothing. */
export async function fileSource(path: string): Promise<Source> {
  const fh = await open(path, "r");
  const st = await fh.stat();
  if (!st.isFile()) return fdStreamSource(fh);
  let pos = 0;
  return {
    size: st.size,
    async read(into) {
      const { bytesRead } = await fh.read(into, 0, into.byteLength, pos);
      pos += bytesRead;
      return bytesRead;
    },
    async seek(n) {
      const k = Math.min(n, st.size - pos);
      pos += k;
      return k;
    },
    async close() {
      await fh.close();
    },
  };
}

/** A pipe, FIFO or character device opened as a file: sequential reads only. */
function fdStreamSource(fh: FileHandle): Source {
  const st = fstatSync(fh.fd);
  if (st.isFIFO() || st.isSocket()) {
    return pipeSource(fh.fd, () => handleSource(fh), () => fh.close());
  }
  return handleSource(fh);
}

function handleSource(fh: FileHandle): Source {
  return {
    async read(into) {
      const { bytesRead } = await fh.read(into, 0, into.byteLength, null);
      return bytesRead;
    },
    async close() {
      await fh.close();
    },
  };
}

/** Standard input (a pipe, a file redirect or a terminal). */
export async function stdinSource(): Promise<Source> {
  // A redirected regular file gets the seekable path; otherwise read the stream.
  const st = fstatSync(0);
  if (st.isFile()) return fileSource("/dev/stdin");
  const nodeStream = () => iteratorSource(process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  if (st.isFIFO() || st.isSocket()) return pipeSource(0, nodeStream);
  return nodeStream();
}

/** Chunks of a Node readable (a terminal, or a pipe we cannot read directly). */
function iteratorSource(it: AsyncIterator<Buffer>): Source {
  let cur: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async read(into) {
      while (cur.byteLength === 0) {
        if (done) return 0;
        const r = await it.next();
        if (r.done) {
          done = true;
          return 0;
        }
        cur = r.value;
      }
      const n = Math.min(into.byteLength, cur.byteLength);
      into.set(cur.subarray(0, n));
      cur = cur.subarray(n);
      return n;
    },
    async close() {
      done = true;
    },
  };
}

/** Bytes read before a reader thread is worth starting; the main thread reads on while it boots (~30 ms). */
const PROLOGUE = 256 << 10;
const WORKER_URL = new URL("./stdin-worker.js", import.meta.url);

/**
 * A pipe or socket read by blocking read(2) calls. Small inputs are read on the
 * main thread; past the prologue a reader thread starts and, once booted,
 * takes over: it drains the pipe into a shared ring while the caller decodes,
 * which on this kind of stream roughly doubles throughput (a reader that stops
 * to parse stalls the writer). Memory stays bounded by the ring (4 MiB).
 *
 * A descriptor that turns out to be non-blocking (EAGAIN on the first read)
 * is handed to `fallback` (Node streams) instead; when the thread's script is
 * absent (running from sources) the main thread reads to the end.
 */
function pipeSource(fd: number, fallback: () => Source, onClose?: () => Promise<void>): Source {
  let readSoFar = 0;
  let ring: Ring | null = null;
  /** A reader thread still booting: the main thread keeps reading until it is ready. */
  let booting: Ring | null = null;
  let other: Source | null = null;
  let ended = false;
  const canThread = existsSync(fileURLToPath(WORKER_URL));
  let scratch: Uint8Array | null = null;
  const src: Source = {
    async read(into) {
      if (other) return other.read(into);
      if (ended || into.byteLength === 0) return 0;
      if (ring === null) {
        if (booting === null && canThread && readSoFar >= PROLOGUE) booting = startRing(fd);
        if (booting?.ready()) {
          ring = booting;
          booting = null;
          ring.go();
        }
      }
      if (ring === null) {
        let n: number;
        try {
          n = readSync(fd, into, 0, into.byteLength, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
          await booting?.close();
          booting = null;
          other = fallback();
          return other.read(into);
        }
        readSoFar += n;
        if (n === 0) ended = true;
        return n;
      }
      const n = await ring.read(into);
      if (n === 0) ended = true;
      return n;
    },
    // Skipping a payload (a verify of pages) discards ring slots without copying them.
    async seek(n) {
      let done = 0;
      while (done < n && !ended) {
        if (ring === null) {
          scratch ??= new Uint8Array(64 << 10);
          const k = await src.read(scratch.subarray(0, Math.min(scratch.byteLength, n - done)));
          if (k === 0) break;
          done += k;
          continue;
        }
        const k = await ring.consume(n - done, null);
        if (k === 0) ended = true;
        done += k;
      }
      return done;
    },
    async close() {
      ended = true;
      await booting?.close();
      await ring?.close();
      await other?.close?.();
      await onClose?.();
    },
  };
  return src;
}

/** A stream long enough for the reader thread is long enough to want a bigger pipe too. */
function startRing(fd: number): Ring {
  growPipe(fd);
  return new Ring(fd);
}

/** fcntl(2) F_SETPIPE_SZ, and the size asked for (the unprivileged ceiling, /proc/sys/fs/pipe-max-size, is 1 MiB by default). */
const F_SETPIPE_SZ = 1031;
const PIPE_SIZE = 1 << 20;

/**
 * Ask the kernel for a 1 MiB pipe buffer instead of the default 64 KiB: the
 * writer then stalls 16 times less often, which on a two-core machine takes
 * pipe throughput from about 0.9 GB/s (the speed of `cat | cat`) to 1.5 GB/s
 * and more. Node has no fcntl, so a one-line perl (part of every Debian-like
 * base system) does it on the shared descriptor; where there is no perl, or
 * the kernel refuses, the pipe simply keeps its size. Fire and forget.
 */
function growPipe(fd: number): void {
  if (process.platform !== "linux" || process.env.VMSTREAM_PIPE_SIZE === "0") return;
  // The system's perl by absolute path: nothing found through PATH runs with our input.
  const perl = ["/usr/bin/perl", "/bin/perl"].find((p) => existsSync(p));
  if (!perl) return;
  try {
    const child = childProcess().spawn(perl, ["-e", `fcntl(STDIN, ${F_SETPIPE_SZ}, ${PIPE_SIZE})`], { stdio: [fd, "ignore", "ignore"] });
    child.on("error", () => {});
    child.unref();
  } catch {
    // No perl, no process slots: the default pipe still works.
  }
}

// Node 20 has Atomics.waitAsync; TypeScript's ES2022 lib does not declare it yet.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

/** Main-thread side of the reader thread's ring (see pipe-ring.ts). */
class Ring {
  private readonly data: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly lengths: Int32Array;
  private readonly worker: Worker;
  /** Bytes of the current slot already handed out. */
  private off = 0;
  private error: string | undefined;
  private done = false;

  constructor(fd: number) {
    this.data = new SharedArrayBuffer(RING_SLOTS * RING_SLOT_SIZE);
    const control = new SharedArrayBuffer((CTL_LENGTHS + RING_SLOTS) * 4);
    this.ctl = new Int32Array(control);
    this.lengths = new Int32Array(control, CTL_LENGTHS * 4, RING_SLOTS);
    const init: RingInit = { fd, data: this.data, control, slots: RING_SLOTS, slotSize: RING_SLOT_SIZE };
    this.worker = new (workerThreads().Worker)(WORKER_URL, { workerData: init, stdout: false, stderr: false });
    this.worker.on("message", (m: string) => {
      this.error = m;
    });
    this.worker.on("error", (e: Error) => {
      this.error ??= e.message;
      Atomics.store(this.ctl, CTL_ERROR, 1);
      Atomics.add(this.ctl, CTL_WRITE, 1);
      Atomics.notify(this.ctl, CTL_WRITE);
    });
  }

  /** The thread has booted and waits for the pipe to be handed over. */
  ready(): boolean {
    return Atomics.load(this.ctl, CTL_STATE) === STATE_READY;
  }

  /** Hand the pipe over: from now on only the thread reads it. */
  go(): void {
    Atomics.store(this.ctl, CTL_STATE, STATE_GO);
    Atomics.notify(this.ctl, CTL_STATE);
  }

  read(into: Uint8Array): Promise<number> {
    return this.consume(into.byteLength, into);
  }

  /** Hand over up to `max` ready bytes (at least one, waiting if none): copied into `into`, or discarded when it is null. */
  async consume(max: number, into: Uint8Array | null): Promise<number> {
    if (this.done || max === 0) return 0;
    let got = 0;
    for (;;) {
      const r = this.ctl[CTL_READ]!;
      if (Atomics.load(this.ctl, CTL_WRITE) === r) {
        // Nothing ready: hand back what we have, or wait for the thread.
        if (got > 0) return got;
        const w = waitAsync(this.ctl, CTL_WRITE, r);
        if (w.async) await w.value;
        continue;
      }
      const slot = r % RING_SLOTS;
      const len = this.lengths[slot]!;
      if (len === 0) {
        if (got > 0) return got;
        this.done = true;
        this.worker.unref();
        if (Atomics.load(this.ctl, CTL_ERROR)) {
          if (this.error === undefined) await new Promise((res) => setTimeout(res, 10));
          throw new Error(`cannot read the input pipe: ${this.error ?? "I/O error"}`);
        }
        return 0;
      }
      const n = Math.min(max - got, len - this.off);
      into?.set(new Uint8Array(this.data, slot * RING_SLOT_SIZE + this.off, n), got);
      got += n;
      this.off += n;
      if (this.off === len) {
        this.off = 0;
        Atomics.add(this.ctl, CTL_READ, 1);
        Atomics.notify(this.ctl, CTL_READ);
      }
      if (got === max) return got;
    }
  }

  async close(): Promise<void> {
    this.done = true;
    // A thread still waiting for the hand-over must not start reading now.
    if (Atomics.compareExchange(this.ctl, CTL_STATE, STATE_READY, STATE_QUIT) !== STATE_GO) {
      Atomics.store(this.ctl, CTL_STATE, STATE_QUIT);
      Atomics.notify(this.ctl, CTL_STATE);
    }
    // Unref first: a thread blocked in read(2) ends at its next chunk, and must not hold the process.
    this.worker.unref();
    void this.worker.terminate().catch(() => {});
  }
}

/**
 * Writes to a temporary file beside `path` and renames it over `path` on close,
 * so a reader never sees a half-written output; abort removes the temporary.
 */
export async function atomicFileSink(path: string): Promise<Sink> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fh = await open(tmp, "wx", 0o644);
  const out = new WriteBehind(fh);
  let done = false;
  return {
    write: (chunk) => out.write(chunk),
    hole: (n) => out.hole(n),
    writeAt: (pos, chunk) => out.writeAt(pos, chunk),
    coalesces: true,
    async close() {
      if (done) return;
      done = true;
      // Any failure up to and including the rename removes the temporary: no leftovers.
      try {
        await out.drain();
        // A hole at the very end has no byte after it to give the file its size.
        if (out.holes) await fh.truncate(out.position);
        await fh.close();
        await rename(tmp, path);
      } catch (e) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw e;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await out.drain().catch(() => {});
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}

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
class WriteBehind {
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

/** Standard output, respecting back-pressure so large outputs are not buffered whole. */
export function stdoutSink(): Sink {
  const out = process.stdout;
  return {
    write(chunk) {
      // Node may keep the buffer until flushed; the caller reuses its buffer, so copy.
      if (out.write(Buffer.from(chunk))) return;
      return new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          out.off("error", onError);
          resolve();
        };
        const onError = (e: Error) => {
          out.off("drain", onDrain);
          reject(e);
        };
        out.once("drain", onDrain);
        out.once("error", onError);
      });
    },
    async close() {},
    async abort() {},
  };
}
