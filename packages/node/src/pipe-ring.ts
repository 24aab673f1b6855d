/**
 * Layout shared by `pipeSource` (pipe-source.ts, ring.ts) and its reader thread
 * (stdin-worker.ts): a ring of fixed-size slots in a SharedArrayBuffer plus a
 * small control block. One writer (the thread) and one reader (the main
 * thread) advance two sequence numbers; a slot is free when it is more than
 * `slots` behind the write sequence.
 */
export const RING_SLOTS = 32;
/** A pipe delivers at most its capacity per read (64 KiB by default, up to 1 MiB). */
export const RING_SLOT_SIZE = 128 << 10;

/** Int32 indexes in the control block. */
export const CTL_WRITE = 0;
export const CTL_READ = 1;
/** Set by the thread: errno text follows in `error` (see below) and the stream ends. */
export const CTL_ERROR = 2;
/**
 * The thread's start-up handshake: it sets STATE_READY once booted and reads
 * nothing until the main thread, which keeps reading the pipe itself
 * meanwhile, sets STATE_GO (or STATE_QUIT when the stream ended first).
 */
export const CTL_STATE = 3;
export const STATE_READY = 1;
export const STATE_GO = 2;
export const STATE_QUIT = 3;
/** Slot lengths start after the four control words. */
export const CTL_LENGTHS = 4;

export interface RingInit {
  fd: number;
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
  slots: number;
  slotSize: number;
}
