import { type Source, webStreamSource } from "@vmstream/framing";

/** Skips shorter than this read through the current stream; longer ones restart it at the target. */
const SEEK_MIN = 4 << 20;

/**
 * A browser File as a Source: bytes come from `File.stream()` through
 * framing's `webStreamSource` (chunk by chunk, never the whole file), and a
 * long skip (guest RAM a summary does not need) reopens the stream at the
 * target with `file.slice(pos).stream()` instead of reading what it skips.
 */
export function fileSource(file: File): Source {
  let pos = 0;
  let inner = webStreamSource(file.stream() as ReadableStream<Uint8Array>);
  let scratch: Uint8Array | undefined;
  return {
    size: file.size,
    async read(into) {
      const n = await inner.read(into);
      pos += n;
      return n;
    },
    async seek(n) {
      const k = Math.max(0, Math.min(n, file.size - pos));
      if (k >= SEEK_MIN) {
        await inner.close?.();
        pos += k;
        inner = webStreamSource(file.slice(pos).stream() as ReadableStream<Uint8Array>);
        return k;
      }
      scratch ??= new Uint8Array(64 * 1024);
      let left = k;
      while (left > 0) {
        const got = await inner.read(scratch.subarray(0, Math.min(left, scratch.byteLength)));
        if (got === 0) break;
        left -= got;
        pos += got;
      }
      return k - left;
    },
    async close() {
      await inner.close?.();
    },
  };
}
