import { readFileSync } from "node:fs";
import { fc, test } from "@fast-check/vitest";
import { MemorySink, StreamReader, WireError, chunksSource } from "@vmstream/framing";
import { contextStream, mutatedStream, propertyParams } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { contextCodec, contextFromJson, readContext, writeContext } from "../../src/context/index.js";

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../../../../fixtures/context/${name}`, import.meta.url)));
const FIXTURES = ["ctx1-empty.bin", "ctx1-small.bin", "ctx2-be.bin", "ctx2-le.bin", "ctx2-wide-instance.bin"];

async function run(fn: (out: MemorySink) => Promise<void>): Promise<Uint8Array> {
  const out = new MemorySink();
  await fn(out);
  return out.bytes();
}
const recode = (b: Uint8Array) => run((o) => contextCodec.recode(StreamReader.of(b), contextCodec.detect(b)!, o, {}));
/**
 * A reader holding at most 16 bytes (a descriptor) at a time, of a source in
 * 5-byte pieces: records straddle every refill, so the per-record path runs
 * where the bulk check of buffered records would otherwise take them. With
 * `sized`, the source knows its size (a file's), without it, it is a pipe's.
 */
const narrow = (b: Uint8Array, sized = false): StreamReader => {
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += 5) pieces.push(b.subarray(i, i + 5));
  const src = chunksSource(pieces);
  return new StreamReader(sized ? { read: src.read, size: b.length } : src, { chunkSize: 16 });
};
/** "ok", or the fault as code@offset. */
const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (e: unknown) => (e instanceof WireError ? `${e.code}@${e.offset}` : `not a WireError: ${String(e)}`),
  );
const convert = (b: Uint8Array, to: string) =>
  run((o) => contextCodec.convert!(StreamReader.of(b), contextCodec.detect(b)!, { family: "context", version: to }, o, {}));
async function decodeJson(b: Uint8Array): Promise<unknown> {
  let s = "";
  for await (const piece of contextCodec.decode(StreamReader.of(b), contextCodec.detect(b)!, {})) s += piece;
  return JSON.parse(s);
}
async function encode(s: Parameters<typeof writeContext>[0]): Promise<Uint8Array> {
  return run((o) => writeContext(s, o));
}
async function fault(p: Promise<unknown>): Promise<WireError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WireError);
  return e as WireError;
}

describe("context fixtures (independent encoder)", () => {
  it.each(FIXTURES)("%s verifies, recodes and decode→encode byte-identically", async (name) => {
    const b = fixture(name);
    const v = contextCodec.detect(b)!;
    expect(v).toBe(name.startsWith("ctx1") ? "1" : "2");
    const rep = await contextCodec.verify(StreamReader.of(b), v, {});
    expect(rep.bytes).toBe(b.length);
    expect(await recode(b)).toEqual(b);
    const doc = await decodeJson(b);
    expect(await run((o) => contextCodec.encode(doc, o, {}))).toEqual(b);
  });

  it("ctx1-small converted to version 2 is exactly ctx2-le, and back", async () => {
    expect(await convert(fixture("ctx1-small.bin"), "2")).toEqual(fixture("ctx2-le.bin"));
    expect(await convert(fixture("ctx2-le.bin"), "1")).toEqual(fixture("ctx1-small.bin"));
  });

  it("ctx1-empty holds only HEADER and END", async () => {
    const s = await readContext(StreamReader.of(fixture("ctx1-empty.bin")));
    expect(s.records).toEqual([]);
    expect([s.xenMajor, s.xenMinor]).toEqual([4, 17]);
  });

  it("refuses 2 → 1 for an instance above 0xffff, naming the record", async () => {
    const b = fixture("ctx2-wide-instance.bin");
    const s = await readContext(StreamReader.of(b));
    const i = s.records.findIndex((r) => r.instance > 0xffff);
    expect(i).toBeGreaterThanOrEqual(0);
    const e = await fault(convert(b, "1"));
    expect(e.code).toBe("REFUSED");
    expect(e.message).toContain(`record[${i}]`);
    expect(e.message).toMatch(/instance/);
  });

  it("refuses 2 → 1 for big-endian records", async () => {
    const e = await fault(convert(fixture("ctx2-be.bin"), "1"));
    expect(e.code).toBe("REFUSED");
    expect(e.message).toMatch(/big-endian/);
  });

  it("big-endian records decode to the same values as little-endian ones", async () => {
    const be = await readContext(StreamReader.of(fixture("ctx2-be.bin")));
    expect(be.bigEndian).toBe(true);
    const le = await encode({ ...be, bigEndian: false });
    expect((await readContext(StreamReader.of(le))).records).toEqual(be.records);
  });
});

describe("context rules", () => {
  const small = () => fixture("ctx1-small.bin");

  it("rejects non-zero padding at the padding byte", async () => {
    const b = small();
    // first record after HEADER: descriptor at 24, length 0x2d → padding at 24+8+45 = 77..79
    b[78] = 1;
    const e = await fault(contextCodec.verify(StreamReader.of(b), "1", {}));
    expect(e.code).toBe("NONZERO_PADDING");
    expect(e.offset).toBe(78);
  });

  it("rejects a missing END at the end of the stream", async () => {
    const b = small().subarray(0, fixture("ctx1-small.bin").length - 8);
    const e = await fault(contextCodec.verify(StreamReader.of(b), "1", {}));
    expect(e.code).toBe("TRUNCATED");
    expect(e.offset).toBe(b.length);
  });

  it("rejects bytes after END", async () => {
    const b = new Uint8Array([...fixture("ctx2-le.bin"), 0, 0, 0, 0, 0, 0, 0, 0]);
    const e = await fault(contextCodec.verify(StreamReader.of(b), "2", {}));
    expect(e.code).toBe("TRAILING_BYTES");
    expect(e.offset).toBe(b.length - 8);
  });

  it("rejects reserved option bits and a reserved header field", async () => {
    const b = fixture("ctx2-le.bin");
    b[8] = 0x80;
    expect((await fault(contextCodec.verify(StreamReader.of(b), "2", {}))).offset).toBe(8);
    const c = fixture("ctx2-le.bin");
    c[11] = 1;
    expect((await fault(contextCodec.verify(StreamReader.of(c), "2", {}))).offset).toBe(10);
  });

  it("rejects a short record instead of zero-extending it", async () => {
    const b = small().subarray(0, 40);
    const e = await fault(readContext(StreamReader.of(b)));
    expect(e.code).toBe("TRUNCATED");
    expect(e.offset).toBe(32);
  });

  it("refuses a hostile u64 length without allocating it", async () => {
    const b = fixture("ctx2-le.bin");
    new DataView(b.buffer).setBigUint64(24, 0xffff_ffff_ffff_fff8n, true);
    const e = await fault(contextCodec.verify(new StreamReader(chunksSource([b])), "2", {}));
    expect(e.offset).toBe(24);
  });

  it("rejects a version it does not know", async () => {
    const b = fixture("ctx2-le.bin");
    b[7] = 3;
    expect(contextCodec.detect(b)).toBe("3");
    expect((await fault(contextCodec.verify(StreamReader.of(b), "3", {}))).code).toBe("REFUSED");
    expect((await fault(readContext(StreamReader.of(b)))).code).toBe("UNSUPPORTED_VERSION");
  });

  it("refuses JSON whose length disagrees with its body", () => {
    expect(() =>
      contextFromJson({ format: "context@2", xen_major: 4, xen_minor: 17, records: [{ type: 5, instance: 0, length: 5, body: "AAAA" }] }),
    ).toThrow(/length/);
  });
});

const params = propertyParams(200);

describe("context properties", () => {
  test.prop([fc.constantFrom(1 as const, 2 as const).chain((version) => contextStream({ version }))], params)(
    "any stream round-trips: write → read → write gives the same bytes and value",
    async (s) => {
      const bytes = await encode(s);
      const back = await readContext(StreamReader.of(bytes));
      expect(back).toEqual(s);
      expect(await recode(bytes)).toEqual(bytes);
      expect(await run((o) => contextCodec.recode(narrow(bytes), String(s.version), o, {}))).toEqual(bytes);
      const doc = await decodeJson(bytes);
      expect(await run((o) => contextCodec.encode(doc, o, {}))).toEqual(bytes);
    },
  );

  test.prop([contextStream({ version: 1 })], params)("1 → 2 → 1 is the identity, and 1 → 2 keeps every record", async (s) => {
    const v1 = await encode(s);
    const v2 = await convert(v1, "2");
    const mid = await readContext(StreamReader.of(v2));
    expect(mid.records).toEqual(s.records);
    expect(await convert(v2, "1")).toEqual(v1);
  });

  test.prop([contextStream({ version: 2, portable: true })], params)("2 → 1 of a portable stream is lossless", async (s) => {
    const v2 = await encode(s);
    expect(await convert(await convert(v2, "1"), "2")).toEqual(v2);
  });

  const corpus = FIXTURES.map(fixture);
  test.prop([fc.constantFrom(...corpus).chain((b) => mutatedStream(b, corpus))], params)(
    "a damaged stream gives a typed error with an offset inside it, never anything else",
    async (b) => {
      const v = contextCodec.detect(b);
      for (const op of [
        () => contextCodec.verify(new StreamReader(chunksSource([b.subarray(0, 7), b.subarray(7)]), { chunkSize: 16 }), v ?? "2", {}),
        () => recode(b),
      ]) {
        try {
          await op();
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
          const w = e as WireError;
          expect(w.offset).toBeGreaterThanOrEqual(0);
          expect(w.offset).toBeLessThanOrEqual(b.length);
        }
      }
      // Records checked in bulk from the buffer or one by one across refills: the same verdict, at the same offset; recode refuses what verify refuses.
      const wide = await outcome(contextCodec.verify(StreamReader.of(b), v ?? "2", {}));
      expect(await outcome(contextCodec.verify(narrow(b, true), v ?? "2", {}))).toBe(wide);
      expect(await outcome(run((o) => contextCodec.recode(StreamReader.of(b), v ?? "2", o, {})))).toBe(wide);
      expect(await outcome(contextCodec.verify(narrow(b), v ?? "2", {}))).toEqual(wide === "ok" ? "ok" : expect.stringMatching(/^[A-Z_]+@\d+$/));
    },
  );
});
