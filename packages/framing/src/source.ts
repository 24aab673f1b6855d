/**
 * Where stream bytes come from. A Source fills the caller's buffer (so a file
 * source reads straight into it, no copy) and may seek forward, which lets
 * readers skip bulk payloads such as guest pages without reading them.
 */
export interface Source {
  /** Fill up to `into.length` bytes; resolve the count, 0 only at end of stream. */
  read(into: Uint8Array): Promise<number>;
  /** Skip `n` bytes without reading them; resolve how many were skipped (fewer only at end). */
  seek?(n: number): Promise<number>;
  /** Total size in bytes when known (regular files, in-memory bytes). */
  readonly size?: number | undefined;
  close?(): Promise<void>;
}

/** Bytes already in memory. Reads are copies into the caller's buffer; seeks are free. */
export function bytesSource(bytes: Uint8Array): Source {
  let pos = 0;
  return {
    size: bytes.byteLength,
    async read(into) {
      const n = Math.min(into.byteLength, bytes.byteLength - pos);
      into.set(bytes.subarray(pos, pos + n));
      pos += n;
      return n;
    },
    async seek(n) {
      const k = Math.min(n, bytes.byteLength - pos);
      pos += k;
      return k;
    },
  };
}

/**
 * Chunks from any (async) iterable: a Node stream, a web ReadableStream reader
 * loop, an array of Uint8Arrays. Chunk boundaries may fall anywhere.
 */
export function chunksSource(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Source {
  const it: AsyncIterator<Uint8Array> | Iterator<Uint8Array> =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (chunks as Iterable<Uint8Array>)[Symbol.iterator]();
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
      await it.return?.();
    },
  };
}

/** A WHATWG ReadableStream of bytes (browser `File.stream()`, `fetch` bodies). */
export function webStreamSource(stream: ReadableStream<Uint8Array>): Source {
  const reader = stream.getReader();
  const src = chunksSource({
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    },
  });
  return {
    read: src.read,
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
