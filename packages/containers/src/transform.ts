import { MalformedError, RefusedError, type Source, webStreamSource } from "@vmstream/framing";

/**
 * A (de)compressor: turns one Source into another. `at` is the file offset
 * where the input starts, so faults name a real offset. The browser-safe core
 * has gzip (the platform's CompressionStream/DecompressionStream, in Node 20
 * and browsers); `@vmstream/containers/node` adds xz, bzip2 and lzop by
 * running the same programs libvirt runs.
 */
export type Transform = (kind: string, input: Source, at: number) => Source;

/** A window of a file as a Source, reading `chunk` bytes at a time: the compressed stream of a save image. */
export function sliceSource(readAt: (offset: number, into: Uint8Array) => Promise<number>, start: number, end: number): Source & { consumed(): number } {
  let pos = start;
  return {
    size: end - start,
    async read(into) {
      const n = Math.min(into.byteLength, end - pos);
      if (n <= 0) return 0;
      const k = await readAt(pos, into.subarray(0, n));
      pos += k;
      return k;
    },
    async seek(n) {
      const k = Math.min(n, end - pos);
      pos += k;
      return k;
    },
    consumed: () => pos - start,
  };
}

const CHUNK = 256 << 10;

/** A Source as a web byte stream, read as it is pulled (backpressure: one chunk ahead). */
export function sourceStream(src: Source, onRead?: (n: number) => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const buf = new Uint8Array(CHUNK);
      const n = await src.read(buf);
      if (n === 0) ctrl.close();
      else {
        onRead?.(n);
        ctrl.enqueue(buf.subarray(0, n));
      }
    },
    async cancel() {
      await src.close?.();
    },
  });
}

/** A web stream read as a Source (framing's `webStreamSource`), with errors mapped by `onError` so they carry an offset. */
export function streamSource(stream: ReadableStream<Uint8Array>, onError: (e: unknown) => Error): Source {
  const src = webStreamSource(stream);
  return {
    read: (into) => src.read(into).catch((e: unknown) => Promise.reject(onError(e))),
    close: async () => src.close?.(),
  };
}

/** gzip through the platform's DecompressionStream; other formats are refused with their name. */
export const webDecompress: Transform = (kind, input, at) => {
  if (kind === "raw") return input;
  if (kind !== "gzip") throw new RefusedError(`${kind}-compressed save images need the Node entry point (@vmstream/containers/node), which runs ${kind} as libvirt does`, 28);
  let fed = 0;
  const out = sourceStream(input, (n) => (fed += n)).pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  return streamSource(out, (e) => new MalformedError(`gzip stream from offset ${at} is corrupt or cut short: ${(e as Error)?.message ?? e}`, at + fed));
};

/** gzip through the platform's CompressionStream (the decompressed bytes are what matters, not gzip's own). */
export const webCompress: Transform = (kind, input) => {
  if (kind === "raw") return input;
  if (kind !== "gzip") throw new RefusedError(`writing ${kind}-compressed save images needs the Node entry point (@vmstream/containers/node)`);
  const out = sourceStream(input).pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  return streamSource(out, (e) => e as Error);
};
