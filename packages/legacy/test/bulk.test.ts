import { describe, expect, test } from "vitest";
import { MemorySink, StreamReader, WireError, chunksSource, type Source } from "@vmstream/framing";
import { LIBXC_REC } from "@vmstream/libxl";
import { legacyCodec } from "../src/index.js";
import { LIBXC, LIBXL, fixture } from "./helpers.js";

const FILLER = 0xf000_0000;

/**
 * A 64-bit HVM image whose batches are big enough to cross the converter's
 * output blocks in every way: whole 4 MiB batches, batches with fillers and
 * pfns out of order, batches just above and below the bulk threshold.
 * Built from the tiny fixture: its p2m_size and tsc_info, our batches, then
 * the rest of its body and tail.
 */
function bigImage(): { bytes: Uint8Array; pages: Uint8Array; starts: number[] } {
  const tiny = fixture("legacy_tiny_hvm_64.bin");
  const batches: number[][] = [];
  const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  batches.push(range(0, 1024));
  batches.push(range(0x1000, 1024).reverse().map((v, i) => (i % 97 === 5 ? FILLER : v)));
  batches.push(range(0x2000, 300));
  batches.push(range(0x3000, 1024));
  batches.push(range(0x4000, 7));
  batches.push(range(0x5000, 257));
  batches.push(range(0x6000, 1024));
  const parts: Uint8Array[] = [tiny.subarray(0, 32)];
  const pageParts: Uint8Array[] = [];
  const starts: number[] = [];
  let seed = 12345;
  let at = 32;
  for (const b of batches) {
    const head = new DataView(new ArrayBuffer(4 + 8 * b.length));
    head.setInt32(0, b.length, true);
    b.forEach((v, i) => head.setUint32(4 + 8 * i, v, true));
    const data = new Uint8Array(4096 * b.filter((v) => v !== FILLER).length);
    for (let i = 0; i < data.length; i += 4) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      data[i] = seed >>> 24;
      data[i + 1] = seed >>> 16;
      data[i + 2] = seed >>> 8;
      data[i + 3] = seed;
    }
    parts.push(new Uint8Array(head.buffer), data);
    pageParts.push(data);
    at += head.byteLength;
    starts.push(at);
    at += data.length;
  }
  parts.push(tiny.subarray(32));
  return { bytes: join(parts), pages: join(pageParts), starts };
}

/** Byte equality without handing vitest megabytes to diff. */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A file-like source (size and seek) whose reads deliver at most `most` bytes, and nothing past `cut`. */
function fileLike(bytes: Uint8Array, most: number, cut = bytes.length): Source {
  let pos = 0;
  return {
    size: bytes.length,
    async read(into) {
      const n = Math.max(0, Math.min(into.byteLength, most, cut - pos));
      into.set(bytes.subarray(pos, pos + n));
      pos += n;
      return n;
    },
    async seek(n) {
      const k = Math.min(n, bytes.length - pos);
      pos += k;
      return k;
    },
  };
}

async function convertWith(r: StreamReader, to = LIBXC): Promise<Uint8Array> {
  const sink = new MemorySink();
  await legacyCodec.convert!(r, "64", to, sink, { width: 64, guest: "hvm" });
  return sink.bytes();
}

/** The page bytes of every PAGE_DATA record of a libxc stream, in order. */
function pagesOf(out: Uint8Array): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const found: Uint8Array[] = [];
  for (let o = 24 + 16; ; ) {
    const type = dv.getUint32(o, true);
    const len = dv.getUint32(o + 4, true);
    if (type === LIBXC_REC.END) break;
    if (type === LIBXC_REC.PAGE_DATA) {
      const count = dv.getUint32(o + 8, true);
      found.push(out.subarray(o + 16 + 8 * count, o + 8 + len));
    }
    o += 8 + len + ((8 - (len % 8)) % 8);
  }
  return join(found);
}

describe("bulk page data crossing the converter's output blocks", () => {
  const { bytes, pages, starts } = bigImage();

  test("every page arrives, in order, whatever the reader", async () => {
    const fromFile = await convertWith(StreamReader.of(bytes));
    expect(same(pagesOf(fromFile), pages)).toBe(true);
    // A pipe (no size): the caller's reader is used as it is.
    const pieces: Uint8Array[] = [];
    for (let i = 0, k = 0; i < bytes.length; k++) {
      const n = 100_000 + (k % 7) * 12_345;
      pieces.push(bytes.subarray(i, i + n));
      i += n;
    }
    expect(same(await convertWith(new StreamReader(chunksSource(pieces), { chunkSize: 4096 })), fromFile)).toBe(true);
    // A file whose reads come back short.
    expect(same(await convertWith(new StreamReader(fileLike(bytes, 333_333))), fromFile)).toBe(true);
    expect(same(await convertWith(new StreamReader(fileLike(bytes, 4099), { chunkSize: 8192 })), fromFile)).toBe(true);
    // libxl wraps the same records.
    const xl = await convertWith(StreamReader.of(bytes), LIBXL);
    expect(xl.length).toBeGreaterThan(fromFile.length);
  });

  test("a reader that is not at the stream's start", async () => {
    const r = StreamReader.of(join([new Uint8Array(5), bytes]));
    await r.skip(5);
    const sink = new MemorySink();
    await expect(legacyCodec.convert!(r, "64", LIBXC, sink, { width: 64, guest: "hvm" })).resolves.toBeUndefined();
    expect(same(sink.bytes(), await convertWith(StreamReader.of(bytes)))).toBe(true);
  });

  test("a file that ends early is a TruncatedError at the payload that ran short", async () => {
    // The size says the pages are there, the reads find them missing (a file cut while being read).
    const at = starts[3]!;
    const e = await convertWith(new StreamReader(fileLike(bytes, 1 << 20, at + 5000))).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WireError);
    expect([(e as WireError).code, (e as WireError).offset]).toEqual(["TRUNCATED", at]);
  });

  test("wherever the file is cut, the error is the one a pipe cut there gives", async () => {
    const failure = (r: StreamReader) =>
      convertWith(r).then(
        () => null,
        (x: unknown) => [(x as WireError).code, (x as WireError).offset, (x as Error).message],
      );
    for (const cut of [40, starts[0]! + 3, starts[1]! - 9000, starts[1]! - 100, starts[1]! + (16 << 10), starts[3]! - 8196, starts[6]! + (4 << 20) - 1]) {
      const piped = await failure(new StreamReader(chunksSource([bytes.subarray(0, cut)]), { chunkSize: 4096 }));
      expect(piped?.[0]).toBe("TRUNCATED");
      expect(await failure(new StreamReader(fileLike(bytes, 1 << 20, cut)))).toEqual(piped);
    }
  });

  test("a duplicate among pfns out of order is still found", async () => {
    const img = join([fixture("legacy_tiny_hvm_64.bin").subarray(0, 32), Uint8Array.from([4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]), new Uint8Array(4 * 4096)]);
    const e = await convertWith(StreamReader.of(img)).catch((x: unknown) => x);
    expect([(e as WireError).code, (e as WireError).offset]).toEqual(["MALFORMED", 32 + 4 + 24]);
  });
});
