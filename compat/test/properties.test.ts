/**
 * The matrix properties must be able to fail. Each test runs the real cells
 * against a deliberately broken codec (a mutant of the context codec) and
 * checks that the right property turns red with a reason naming the fault,
 * while the honest codec stays green.
 */
import { type FamilyCodec, type FormatId, MemorySink, RefusedError, type Sink, type StreamReader } from "@vmstream/framing";
import { contextCodec } from "@vmstream/libxl";
import { type ObservedCell, contextStream } from "@vmstream/testing";
import { describe, expect, test } from "vitest";
import { type CellSpec, runCell } from "../src/cell.js";
import { decodeDoc } from "../src/codec-io.js";
import { contextAdapter } from "../src/families/context.js";
import { predictLoss, specDiff } from "../src/spec-diff.js";
import { streamPairCells } from "../src/stream-pair.js";

const params = { seed: 42, numRuns: 200 };

function cellsWith(codec: FamilyCodec): Record<string, CellSpec> {
  const cells = streamPairCells({ ...contextAdapter, codec: () => codec }, "1", "2");
  return Object.fromEntries(cells.map((c) => [c.property, c]));
}

async function run(codec: FamilyCodec, property: string): Promise<ObservedCell> {
  const { ms: _ms, ...o } = await runCell(cellsWith(codec)[property]!, params);
  return o;
}

/** A context@2 → 1 "conversion" that masks what does not fit instead of refusing. */
async function truncatingDowngrade(r: StreamReader, version: string, to: FormatId, out: Sink): Promise<void> {
  const doc = await decodeDoc(contextCodec, await collect(r), version);
  const records = (doc.records as Array<Record<string, number | string>>).map((x) => ({ ...x, type: Number(x.type) & 0xffff, instance: Number(x.instance) & 0xffff }));
  await contextCodec.encode({ format: `context@${to.version}`, xen_major: doc.xen_major, xen_minor: doc.xen_minor, records }, out, {});
}

async function collect(r: StreamReader): Promise<Uint8Array> {
  const { readAll } = await import("@vmstream/framing");
  return readAll(r);
}

const mutant = (over: Partial<FamilyCodec>): FamilyCodec => ({ ...contextCodec, ...over });

describe("the properties catch broken codecs", () => {
  test("the honest context codec passes every property", async () => {
    for (const p of ["upgrade", "downgrade", "forward", "static-dynamic"]) {
      const o = await run(contextCodec, p);
      expect(o.ok, `${p}: ${o.reason}`).toBe(true);
      expect(o.runs).toBe(params.numRuns);
    }
  });

  test("a silently truncating downgrade fails downgrade and static-dynamic", async () => {
    const bad = mutant({
      async convert(r, version, to, out, opts) {
        if (to.version === "1") return truncatingDowngrade(r, version, to, out);
        return contextCodec.convert!(r, version, to, out, opts);
      },
    });
    const down = await run(bad, "downgrade");
    expect(down.ok).toBe(false);
    expect(down.reason).toMatch(/silent|not lossless|differs/);
    expect(down.reason).toContain(`seed ${params.seed}`);
    const sd = await run(bad, "static-dynamic");
    expect(sd.ok).toBe(false);
    expect(sd.reason).toMatch(/the spec predicts refused, the codec (lost-silently|converted)/);
    expect((await run(bad, "upgrade")).ok).toBe(true);
  });

  test("a refusal that does not name the loss fails downgrade", async () => {
    const bad = mutant({
      async convert(r, version, to, out, opts) {
        try {
          return await contextCodec.convert!(r, version, to, out, opts);
        } catch (e) {
          if (e instanceof RefusedError) throw new RefusedError("cannot do that");
          throw e;
        }
      },
    });
    const o = await run(bad, "downgrade");
    expect(o.ok).toBe(false);
    expect(o.reason).toContain("does not name the loss");
  });

  test("an upgrade that drops the last record fails upgrade", async () => {
    const bad = mutant({
      async convert(r, version, to, out, opts) {
        const sink = new MemorySink();
        await contextCodec.convert!(r, version, to, sink, opts);
        const doc = await decodeDoc(contextCodec, sink.bytes(), to.version);
        (doc.records as unknown[]).pop();
        await contextCodec.encode(doc, out, opts);
      },
    });
    const o = await run(bad, "upgrade");
    expect(o.ok).toBe(false);
    expect(o.reason).toMatch(/decoded .* expected/);
  });

  test("a version-1 reader that accepts version-2 data fails forward", async () => {
    const bad = mutant({
      verify: (r, _v, opts) => contextCodec.verify(r, "2", opts),
      decode: (r, _v, opts) => contextCodec.decode(r, "2", opts),
    });
    const o = await run(bad, "forward");
    expect(o.ok).toBe(false);
    expect(o.reason).toContain("accepted context@2 data");
  });

  test("a reader that crashes with a RangeError fails forward", async () => {
    const bad = mutant({
      verify: async (r, v, opts) => {
        if (v === "1") throw new RangeError("offset is out of bounds");
        return contextCodec.verify(r, v, opts);
      },
    });
    const o = await run(bad, "forward");
    expect(o.ok).toBe(false);
    expect(o.reason).toContain("non-wire error");
  });

  test("an arbitrary that never reaches the lossy values fails static-dynamic", async () => {
    // Portable values fit version 1, so no run ever exercises the refusals the spec predicts.
    const tame = { ...contextAdapter, arbitrary: (v: string) => contextStream({ version: Number(v) as 1 | 2, portable: true, maxRecords: 4 }) };
    const cell = streamPairCells(tame, "1", "2").find((c) => c.property === "static-dynamic")!;
    const { ms: _ms, ...o } = await runCell(cell, params);
    expect(o.ok).toBe(false);
    expect(o.reason).toContain("the arbitrary does not cover both cases");
  });

  test("a missing codec is a failing cell that says so", async () => {
    const cells = streamPairCells(
      {
        ...contextAdapter,
        codec: () => {
          throw new (class extends Error {
            override name = "NotImplemented";
          })("x");
        },
      },
      "1",
      "2",
    );
    const { ms: _ms, ...o } = await runCell(cells[0]!, params);
    expect(o.ok).toBe(false);
    expect(o.runs).toBe(0);
  });
});

describe("the spec static checker", () => {
  test("context 1 → 2: downgrade loses wide types and instances and the byte-order option; upgrade loses nothing", () => {
    const v = specDiff("context", "1", "2");
    expect(v.upgradeLoss).toEqual([]);
    expect(v.forward).toBe("reject");
    const fields = v.downgradeLoss.map((l) => (l.kind === "record" ? l.name : l.field)).sort();
    expect(fields).toEqual(["instance", "length", "options", "type"]);
    const fits = { stream: { options: 0 }, descriptors: [{ type: 0xffff, instance: 3, length: 10 }], recordCodes: [] };
    expect(predictLoss(v.downgradeLoss, fits)).toEqual([]);
    const wide = { stream: { options: 0 }, descriptors: [{ type: 0x10000, instance: 3, length: 10 }], recordCodes: [] };
    expect(predictLoss(v.downgradeLoss, wide).map((l) => l.kind === "narrower" && l.field)).toEqual(["type"]);
    const be = { stream: { options: 1 }, descriptors: [], recordCodes: [] };
    expect(predictLoss(v.downgradeLoss, be).map((l) => l.kind === "absent" && l.field)).toEqual(["options"]);
  });

  test("libxc 2 → 3: only the policy records are lost going back; STATIC_DATA_END is framing", () => {
    const v = specDiff("libxc", "2", "3");
    expect(v.upgradeLoss).toEqual([]);
    expect(v.downgradeLoss.map((l) => (l.kind === "record" ? l.name : "?")).sort()).toEqual(["X86_CPUID_POLICY", "X86_MSR_POLICY"]);
  });

  test("qemu 3 → 4: lossless both ways, and a 3 reader rejects 4", () => {
    const v = specDiff("qemu", "3", "4");
    expect(v.upgradeLoss).toEqual([]);
    expect(v.downgradeLoss).toEqual([]);
    expect(v.forward).toBe("reject");
  });
});
