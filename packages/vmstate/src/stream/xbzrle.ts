/**
 * XBZRLE page deltas (migration/xbzrle.c, the `xbzrle` capability): a record
 * carries `u8 encoding (1), be16 length, bytes`, where the bytes are pairs of
 * runs over the page: a ULEB128 count of unchanged bytes, then a ULEB128
 * count of new bytes followed by those bytes. Counts are one or two bytes;
 * only the first unchanged run may be 0; no new-bytes run is 0; every run
 * stays inside the page and inside the record, and nothing is left over.
 * The delta applies to the page's previous content on the destination, so
 * the page must have been sent earlier in the stream (ram.ts checks that).
 */
import { MalformedError } from "@vmstream/framing";

/** Check `src` the way QEMU's decoder accepts it; faults name their absolute offset (`base` + index). */
export function checkXbzrle(src: Uint8Array, dlen: number, base: number): void {
  walk(src, dlen, base, null);
}

/** Apply a checked delta to `page` in place (the page's earlier content). */
export function applyXbzrle(src: Uint8Array, page: Uint8Array, base = 0): void {
  walk(src, page.byteLength, base, page);
}

function walk(src: Uint8Array, dlen: number, base: number, page: Uint8Array | null): void {
  const slen = src.byteLength;
  let i = 0;
  let d = 0;
  const uleb = (): number => {
    // QEMU wants two bytes left before each count, even a one-byte one.
    if (slen - i < 2) throw new MalformedError("XBZRLE run truncated", base + i, { expected: "at least 2 bytes before a run length", found: String(slen - i) });
    const a = src[i]!;
    if (!(a & 0x80)) {
      i += 1;
      return a;
    }
    const b = src[i + 1]!;
    if (b & 0x80) throw new MalformedError("XBZRLE run length longer than 2 bytes", base + i);
    i += 2;
    return (a & 0x7f) | (b << 7);
  };
  while (i < slen) {
    const zat = i;
    const z = uleb();
    if (zat !== 0 && z === 0) throw new MalformedError("XBZRLE unchanged run of length 0 after the first", base + zat);
    d += z;
    if (d > dlen) throw new MalformedError("XBZRLE unchanged run goes past the end of the page", base + zat, { expected: `at most ${dlen - d + z}`, found: String(z) });
    const nat = i;
    const nz = uleb();
    if (nz === 0) throw new MalformedError("XBZRLE data run of length 0", base + nat);
    if (d + nz > dlen) throw new MalformedError("XBZRLE data run goes past the end of the page", base + nat, { expected: `at most ${dlen - d}`, found: String(nz) });
    if (i + nz > slen) throw new MalformedError("XBZRLE data run goes past the end of the record", base + nat, { expected: `at most ${slen - i}`, found: String(nz) });
    if (page) page.set(src.subarray(i, i + nz), d);
    d += nz;
    i += nz;
  }
}
