/**
 * Pipes and sockets read by blocking read(2) on the main thread, straight into
 * the caller's buffer; optionally (VMSTREAM_PIPE_THREAD=1) by a reader thread
 * over a shared ring past a short prologue (ring.ts, stdin-worker.ts).
 */
import { existsSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Source } from "@vmstream/framing";
import { growPipe } from "./grow-pipe.js";
import { Ring, WORKER_URL } from "./ring.js";

/** Bytes read before a bigger pipe (or a reader thread) is worth asking for. */
const PROLOGUE = 256 << 10;
/** Skips over a pipe read through a scratch buffer this large (as large as the grown pipe). */
const SKIP_READ = 1 << 20;

/**
 * A pipe or socket read by blocking read(2) calls on the main thread, each
 * straight into the caller's buffer (the stream reader's), like any program
 * that reads a pipe. Past the prologue the pipe is grown to 1 MiB so the
 * writer stalls less often while the caller decodes.
 *
 * With VMSTREAM_PIPE_THREAD=1 a reader thread starts past the prologue and,
 * once booted, takes over: it drains the pipe into a shared ring (4 MiB)
 * while the caller decodes. That was the default until measured against a
 * plain Node reader of the same pipe on a busy two-core machine: the thread's
 * boot, the ring copy and a futex wake per 128 KiB slot cost ~40 % more CPU
 * than they saved in overlap (scripts/bench/performance-notes.md).
 *
 * A descriptor that turns out to be non-blocking (EAGAIN on the first read)
 * is handed to `fallback` (Node streams) instead; when the thread's script is
 * absent (running from sources) the main thread reads to the end.
 */
export function pipeSource(fd: number, fallback: () => Source, onClose?: () => Promise<void>): Source {
  let readSoFar = 0;
  let ring: Ring | null = null;
  /** A reader thread still booting: the main thread keeps reading until it is ready. */
  let booting: Ring | null = null;
  let other: Source | null = null;
  let ended = false;
  const canThread = process.env.VMSTREAM_PIPE_THREAD === "1" && existsSync(fileURLToPath(WORKER_URL));
  let grown = false;
  let scratch: Uint8Array | null = null;
  const src: Source = {
    async read(into) {
      if (other) return other.read(into);
      if (ended || into.byteLength === 0) return 0;
      if (ring === null) {
        if (!grown && readSoFar >= PROLOGUE) {
          grown = true;
          growPipe(fd);
          if (canThread) booting = new Ring(fd);
        }
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
          scratch ??= new Uint8Array(SKIP_READ);
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
