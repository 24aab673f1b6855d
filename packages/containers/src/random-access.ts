import { TruncatedError } from "@vmstream/framing";

/**
 * A file read at any offset. Containers hold the VM state at places their own
 * tables name (a qcow2 image scatters it over clusters), so they need reads
 * at offsets, not the forward-only `Source` a stream codec reads; what they
 * hand on to the codecs is a `Source` again.
 */
export interface RandomAccess {
  /** Size in bytes: every table is checked against it before anything is allocated. */
  readonly size: number;
  /** Fill `into` from `offset`; resolve the count, short only at the end of the file. */
  readAt(offset: number, into: Uint8Array): Promise<number>;
  close?(): Promise<void>;
}

/** Bytes already in memory (tests, and small files dropped on a web page). */
export function bytesRandomAccess(bytes: Uint8Array): RandomAccess {
  return {
    size: bytes.byteLength,
    async readAt(offset, into) {
      const n = Math.max(0, Math.min(into.byteLength, bytes.byteLength - offset));
      into.set(bytes.subarray(offset, offset + n));
      return n;
    },
  };
}

/** A browser `Blob`/`File`: each read slices the part it needs, the file is never loaded whole. */
export function blobRandomAccess(blob: Blob): RandomAccess {
  return {
    size: blob.size,
    async readAt(offset, into) {
      const part = new Uint8Array(await blob.slice(offset, offset + into.byteLength).arrayBuffer());
      into.set(part);
      return part.byteLength;
    },
  };
}

/** Read exactly `n` bytes at `offset`, or fail naming what was being read. */
export async function readExact(ra: RandomAccess, offset: number, n: number, what: string): Promise<Uint8Array> {
  if (offset + n > ra.size) throw new TruncatedError(what, offset, n, Math.max(0, ra.size - offset));
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await ra.readAt(offset + got, out.subarray(got));
    if (k === 0) throw new TruncatedError(what, offset, n, got);
    got += k;
  }
  return out;
}
