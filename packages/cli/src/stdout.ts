import { writeSync } from "node:fs";

/*
 * Standard output without the cost of `process.stdout` where it is not needed.
 * Node builds that stream (a tty, socket or file stream, with the stream
 * machinery behind it) on first access, which costs 15–40 ms: a third of
 * `node -e 0` on the bench machine, paid by every `verify` just to print one
 * line. So short text goes out with write(2) while nothing has touched the
 * stream, and the stream's error guard is attached the moment anything does
 * (a decode to `-`, a progress check).
 */
let streamCreated = false;

/**
 * Run `onError` for every error of `process.stdout`, from the moment anything
 * creates it (main.ts: EPIPE is the reader's choice, anything else fails the
 * run). Falls back to creating it now when the getter cannot be wrapped.
 */
export function guardStdout(onError: (e: NodeJS.ErrnoException) => void): void {
  const d = Object.getOwnPropertyDescriptor(process, "stdout");
  const original = d?.get;
  if (!original || !d.configurable) {
    streamCreated = true;
    process.stdout.on("error", onError);
    return;
  }
  Object.defineProperty(process, "stdout", {
    configurable: true,
    enumerable: d.enumerable,
    get() {
      // Node caches the stream itself: the original getter goes back in place.
      Object.defineProperty(process, "stdout", { configurable: true, enumerable: d.enumerable, get: original });
      const s = original.call(process) as NodeJS.WriteStream;
      streamCreated = true;
      s.on("error", onError);
      return s;
    },
  });
}

/** Text to standard output, resolved once written. */
export function writeStdout(text: string): Promise<void> {
  let rest: string | Uint8Array = text;
  if (!streamCreated) {
    // Nothing is queued in a stream that this could overtake.
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.byteLength) off += writeSync(1, buf, off);
      return Promise.resolve();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPIPE") return Promise.resolve();
      // A non-blocking descriptor that is full: the stream waits for it.
      if (code !== "EAGAIN") return Promise.reject(e);
      rest = buf.subarray(off);
    }
  }
  return new Promise((res, rej) => {
    process.stdout.write(rest, (e) => (e ? rej(e) : res()));
  });
}
