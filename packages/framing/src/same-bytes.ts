import type { Sink } from "./sink.js";
import type { StreamReader } from "./stream-reader.js";

/** What a writer wrote differs from the bytes the reader consumed (or was written out of order). */
export class NotIdentityError extends Error {
  override name = "NotIdentityError";
  constructor(readonly at: number) {
    super(`the re-encoded stream differs from the input at offset ${at}`);
  }
}

/**
 * Checks, as a decoder re-encodes what it reads, that the bytes written are
 * the bytes read: `sink` takes the writer's output, `expected` is the
 * reader's pass-through (`reader.passThrough(same.expected)`). Whichever
 * side runs ahead is held until the other catches up. A chunk the writer
 * passes on as a view of the reader's own buffer (a run of RAM pages) is
 * held as that view, which stays valid until the reader refills, and the
 * refill first passes those very bytes through: the two are then the same
 * memory, and nothing is compared or copied. Everything else (headers,
 * re-encoded device state: small) is copied and compared.
 */
export class SameBytes {
  /** Bytes one side gave and the other has not yet matched. */
  private queue: Uint8Array[] = [];
  /** Which side the queue holds. */
  private aheadIsWriter = true;
  /** Offset of the first byte not yet matched. */
  private at = 0;

  readonly sink: Sink;
  readonly expected: Pick<Sink, "write">;

  constructor(private readonly reader: StreamReader) {
    this.sink = {
      write: (c) => this.take(c, true),
      writeAt: async () => {
        throw new NotIdentityError(this.at);
      },
      close: async () => {},
    };
    this.expected = { write: (c) => this.take(c, false) };
  }

  /** All bytes written and read: throws unless both sides gave the same bytes. */
  finish(): void {
    if (this.queue.length > 0) throw new NotIdentityError(this.at);
  }

  private take(chunk: Uint8Array, fromWriter: boolean): void {
    let c = chunk;
    while (c.byteLength > 0) {
      if (this.queue.length === 0 || this.aheadIsWriter === fromWriter) {
        // This side is ahead: hold its bytes (a view of the reader's buffer as it is, anything else copied).
        this.aheadIsWriter = fromWriter;
        this.queue.push(fromWriter && this.reader.holds(c) ? c : c.slice());
        return;
      }
      const q = this.queue[0]!;
      const n = Math.min(q.byteLength, c.byteLength);
      if (!sameMemory(q, c)) {
        const d = firstDifference(q, c, n);
        if (d < n) throw new NotIdentityError(this.at + d);
      }
      this.at += n;
      if (n === q.byteLength) this.queue.shift();
      else this.queue[0] = q.subarray(n);
      c = c.subarray(n);
    }
  }
}

const sameMemory = (a: Uint8Array, b: Uint8Array): boolean => a.buffer === b.buffer && a.byteOffset === b.byteOffset;

/** The first index below `n` where a and b differ; `n` when they agree. */
function firstDifference(a: Uint8Array, b: Uint8Array, n: number): number {
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
