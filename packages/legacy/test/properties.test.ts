import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "@fast-check/vitest";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { MemorySink, StreamReader, WireError } from "@vmstream/framing";
import { applyMutation, legacyImageArb, mutation, propertyParams, type LegacyImageModel } from "@vmstream/testing";
import { legacyCodec, summarize } from "../src/index.js";
import { LIBXC, LIBXL, convertBytes, fixture, pipeReader, textOf } from "./helpers.js";

/** Seed and run count only (FC_SEED / FC_NUM_RUNS), typed for any property. */
function runs(n: number): { seed?: number; numRuns?: number } {
  const { seed, numRuns } = propertyParams(n);
  return seed === undefined ? { numRuns } : { seed, numRuns };
}
const params = runs(60);
const image = legacyImageArb({ fillerOnlyBatches: true });

/** What the model says inspect must count (independent of the reader). */
function expectedCounts(m: LegacyImageModel) {
  let pages = 0;
  let batches = 0;
  let fillers = 0;
  for (const c of m.chunks) {
    if (c.kind !== "batch") continue;
    batches++;
    for (const e of c.entries) {
      if (e.pfn === 0 && e.type === 0xf) fillers++;
      else if (e.type < 0xd) pages++;
    }
  }
  return { pages, batches, fillers };
}

describe("legacy images round-trip", () => {
  test.prop([image], params)("decode → JSON text → encode gives the input back", async ({ bytes }) => {
    const text = await textOf(legacyCodec.decode(StreamReader.of(bytes), "64", {}));
    const doc = JSON.parse(text) as { format: string };
    const sink = new MemorySink();
    await legacyCodec.encode(doc, sink, {});
    expect(Buffer.compare(sink.bytes(), bytes)).toBe(0);
    const streamed = new MemorySink();
    await legacyCodec.encodeStream!(pipeReader(new TextEncoder().encode(text), 11), streamed, {});
    expect(Buffer.compare(streamed.bytes(), bytes)).toBe(0);
  });

  test.prop([image, fc.nat()], runs(30))("a decoded document cut anywhere fails with an offset inside what it had", async ({ bytes }, cut) => {
    const text = new TextEncoder().encode(await textOf(legacyCodec.decode(StreamReader.of(bytes), "64", {})));
    const k = cut % text.byteLength;
    const e = await legacyCodec.encodeStream!(pipeReader(text.subarray(0, k), 7), new MemorySink(), {}).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WireError);
    expect((e as WireError).offset).toBeLessThanOrEqual(k);
  });

  test.prop([image], params)("recode is byte-identical, also through a pipe-like reader", async ({ bytes }) => {
    for (const r of [StreamReader.of(bytes), pipeReader(bytes, 5)]) {
      const sink = new MemorySink();
      await legacyCodec.recode(r, "64", sink, {});
      expect(Buffer.compare(sink.bytes(), bytes)).toBe(0);
    }
  });

  test.prop([image], params)("inspect reports the model's width, guest type, p2m size and totals", async ({ model, bytes }) => {
    const s = await summarize(StreamReader.of(bytes), "64", {});
    const want = expectedCounts(model);
    expect({ width: s.width, guest: s.guest, p2m: s.p2m_size, pages: s.pages, batches: s.batches, fillers: s.filler_entries, bytes: s.bytes }).toEqual({
      width: model.width,
      guest: model.guest,
      p2m: model.p2mSize,
      ...want,
      bytes: bytes.length,
    });
    expect(legacyCodec.detect(bytes.subarray(0, 4096))).toBe(String(model.width));
  });

  test.prop([image], params)("conversion does not depend on how the input arrives", async ({ bytes }) => {
    for (const to of [LIBXC, LIBXL]) {
      const whole = await convertBytes(bytes, to);
      expect(Buffer.compare(await convertBytes(bytes, to, {}, undefined, pipeReader(bytes, 3)), whole)).toBe(0);
    }
  });

  test.prop([image], params)("a batch of only filler entries writes no PAGE_DATA (the tool would write count 0)", async ({ model, bytes }) => {
    const out = await convertBytes(bytes, LIBXC);
    // Walk the libxc records of the output: every PAGE_DATA has count ≥ 1.
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let p = 40;
    let pageRecords = 0;
    for (;;) {
      const type = dv.getUint32(p, true);
      const len = dv.getUint32(p + 4, true);
      if (type === 1) {
        pageRecords++;
        expect(dv.getUint32(p + 8, true)).toBeGreaterThan(0);
      }
      p += 8 + len + ((8 - (len % 8)) % 8);
      if (type === 0) break;
    }
    const nonEmpty = model.chunks.filter((c) => c.kind === "batch" && c.entries.some((e) => !(e.pfn === 0 && e.type === 0xf))).length;
    expect(pageRecords).toBe(nonEmpty);
  });
});

const legacyFixtures = readdirSync(fileURLToPath(new URL("../../../fixtures/xen", import.meta.url))).filter((n) => n.startsWith("legacy_"));

describe("damaged legacy fixtures", () => {
  for (const name of legacyFixtures) {
    const bytes = fixture(name);
    test.prop([mutation(bytes.length)], runs(40))(`${name}: success or a WireError inside the input`, async (m) => {
      const bad = applyMutation(bytes, m);
      const ops: (() => Promise<unknown>)[] = [
        () => legacyCodec.verify(StreamReader.of(bad), "64", {}),
        () => convertBytes(bad, name.includes("xl") ? { family: "xl", version: "1" } : LIBXL),
        () => textOf(legacyCodec.decode(pipeReader(bad, 11), "64", {})),
      ];
      for (const op of ops) {
        try {
          await op();
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
          const off = (e as WireError).offset;
          expect(off).toBeGreaterThanOrEqual(0);
          expect(off).toBeLessThanOrEqual(bad.length);
        }
      }
    });
  }
});

describe("detection claims only legacy images", () => {
  const others = [
    ...readdirSync(fileURLToPath(new URL("../../../fixtures/context", import.meta.url))).filter((n) => n.endsWith(".bin")).map((n) => `context/${n}`),
    ...["libxc_one_page_v3.bin", "libxc_tiny_v3.bin", "libxl_tiny.bin", "remus_like.bin", "xl_hvm.bin", "xl_tiny.bin"].map((n) => `xen/${n}`),
    "qemu/pc-7.2-stopped.mig",
    "qemu/pc-2.0-old.mig",
  ];
  for (const name of others) {
    test(`${name} is not legacy`, () => {
      expect(legacyCodec.detect(fixture(name).subarray(0, 4096))).toBeNull();
    });
  }
  test.prop([fc.uint8Array({ minLength: 8, maxLength: 64 })], params)("an all-ones first octet-pair (libxc marker) is never claimed", (tail) => {
    const b = new Uint8Array(8 + tail.length).fill(0xff);
    b.set(tail, 8);
    expect(legacyCodec.detect(b)).toBeNull();
  });
});
