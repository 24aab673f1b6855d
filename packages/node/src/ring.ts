/**
 * The main-thread side of the reader thread's shared ring (layout in
 * pipe-ring.ts; the thread itself is stdin-worker.ts).
 */
import { createRequire } from "node:module";
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

/** worker_threads serves only long pipes: loaded on first use, not at every start. */
const workerThreads = (): typeof import("node:worker_threads") => createRequire(import.meta.url)("node:worker_threads");

/** The reader thread's script, beside this module in dist/ (absent when running from sources). */
export const WORKER_URL = new URL("./stdin-worker.js", import.meta.url);

// Node 20 has Atomics.waitAsync; TypeScript's ES2022 lib does not declare it yet.
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<string> | string };
}).waitAsync;

/** Main-thread side of the reader thread's ring (see pipe-ring.ts). */
export class Ring {
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

