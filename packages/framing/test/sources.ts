import { type Source, bytesSource } from "../src/index.js";

/** A seekable source over `bytes` that delivers reads of at most `step` bytes (as files near their end and slow devices do) and counts its seeks. */
export function choppy(bytes: Uint8Array, step: number): Source & { seeks: number } {
  const inner = bytesSource(bytes);
  const src = {
    size: bytes.byteLength,
    seeks: 0,
    read: (into: Uint8Array) => inner.read(into.subarray(0, Math.min(into.byteLength, step))),
    seek: (n: number) => {
      src.seeks++;
      return inner.seek!(n);
    },
  };
  return src;
}

/** A seekable source over `bytes` that records where in the reader's buffer each read landed. */
export function recordingSource(bytes: Uint8Array, landed: number[]): Source {
  const inner = bytesSource(bytes);
  return {
    size: bytes.byteLength,
    read(into) {
      landed.push(into.byteOffset);
      return inner.read(into);
    },
    seek: (n) => inner.seek!(n),
  };
}
