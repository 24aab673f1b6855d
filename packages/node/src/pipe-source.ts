/**
 * Pipes and sockets read by blocking read(2): on the main thread for a short
 * prologue, then by a reader thread over a shared ring (ring.ts, stdin-worker.ts).
 */
import { existsSync, readSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Source } from "@vmstream/framing";
import { growPipe } from "./grow-pipe.js";
import { Ring, WORKER_URL } from "./ring.js";

/** Bytes read before a reader thread is worth starting; the main thread reads on while it boots (~30 ms). */
const PROLOGUE = 256 << 10;

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
export function pipeSource(fd: number, fallback: () => Source, onClose?: () => Promise<void>): Source {
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
