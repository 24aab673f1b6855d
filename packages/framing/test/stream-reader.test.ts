import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { BufferedSink, MemorySink, StreamReader, TruncatedError, chunksSource, padding8 } from "../src/index.js";

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

describe("StreamReader", () => {
  test.prop([fc.uint8Array({ maxLength: 3000, size: "max" }), fc.array(fc.nat(), { maxLength: 20, size: "max" }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30, size: "max" })])(
    "any chunking and any read sizes give the same bytes",
    async (bytes, cuts, sizes) => {
      const r = new StreamReader(chunksSource(split(bytes, cuts)), { chunkSize: 64 });
      const got: number[] = [];
      let i = 0;
      for (;;) {
        const n = sizes[i++ % sizes.length]!;
        if (await r.fill(n)) {
          expect(r.offset).toBe(got.length);
          got.push(...r.take(n));
        } else {
          got.push(...r.take(r.buffered));
          break;
        }
      }
      expect(Uint8Array.from(got)).toEqual(bytes);
    },
  );

  test.prop([fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3000 }), fc.option(fc.nat(), { nil: undefined }), fc.integer({ min: 1, max: 255 })], { seed: 0x2e05, numRuns: 300 })(
    "skipZeros agrees with a byte-by-byte check on long runs at any alignment",
    async (lead, n, hit, value) => {
      const bytes = new Uint8Array(lead + n + 8);
      const at = hit === undefined || n === 0 ? -1 : hit % n;
      if (at >= 0) bytes[lead + at] = value;
      const r = StreamReader.of(bytes);
      await r.need(bytes.length);
      r.discard(lead);
      expect(r.skipZeros(n)).toBe(at < 0);
      expect(r.offset).toBe(at < 0 ? lead + n : lead);
    },
  );

  it("skipZeros consumes zero padding and leaves a non-zero run for take to report", async () => {
    const r = StreamReader.of(Uint8Array.from([0, 0, 0, 7, 0, 0, 9, 9]));
    await r.need(8);
    expect(r.skipZeros(3)).toBe(true);
    expect(r.offset).toBe(3);
    expect(r.skipZeros(3)).toBe(false);
    expect(r.offset).toBe(3);
    expect(Array.from(r.take(3))).toEqual([7, 0, 0]);
    expect(r.skipZeros(3)).toBe(false); // fewer than 3 buffered: nothing consumed
    r.discard(2);
    expect(r.offset).toBe(8);
    expect(() => r.discard(1)).toThrow(TruncatedError);
  });

  it("skips without reading on seekable sources and fails past the end", async () => {
    const r = StreamReader.of(new Uint8Array(100));
    await r.skip(90);
    expect(r.offset).toBe(90);
    await expect(r.skip(20)).rejects.toBeInstanceOf(TruncatedError);
  });

  it("does not allocate what a hostile length asks for", async () => {
    const r = new StreamReader(chunksSource([new Uint8Array(10)]), { chunkSize: 16 });
    const e = await r.need(0x7fff_ffff, "record body").catch((x) => x);
    expect(e).toBeInstanceOf(TruncatedError);
    expect((e as TruncatedError).available).toBe(10);
  });

  it("pipes a payload through in pieces", async () => {
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i & 255);
    const r = new StreamReader(chunksSource([bytes.subarray(0, 333), bytes.subarray(333)]), { chunkSize: 64 });
    const m = new MemorySink();
    const b = new BufferedSink(m, 128);
    await r.pipe(1000, b);
    await b.close();
    expect(m.bytes()).toEqual(bytes);
  });
});

test.prop([fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))])("padding8 rounds to the next multiple of 8", (n) => {
  const p = padding8(n);
  expect(p).toBeGreaterThanOrEqual(0);
  expect(p).toBeLessThan(8);
  expect((BigInt(n) + BigInt(p)) % 8n).toBe(0n);
});
