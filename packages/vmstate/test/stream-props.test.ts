import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { StreamReader, WireError, chunksSource } from "@vmstream/framing";
import { applyMutation, buildQemuStream, mutation, propertyParams, qemuStream, qemuStreamModel } from "@vmstream/testing";
import { qemuCodec } from "../src/index.js";
import { locateVmdesc } from "../src/stream/vmdesc.js";
import { convert, decodeText, encode, encodeText, fixture, recode, same } from "./qemu-helpers.js";

const params = propertyParams(60);

describe("generated streams (independent encoder in @vmstream/testing)", () => {
  test.prop([qemuStream()], params)("verify accepts and recode is byte-identical", async ({ bytes }) => {
    const rep = await qemuCodec.verify(StreamReader.of(bytes), "3", {});
    expect(rep.bytes).toBe(bytes.byteLength);
    // Every device body was walked with the vmdesc, none kept raw.
    expect(rep.notes.join(" ")).not.toMatch(/scanning/);
    expect(same(await recode(bytes), bytes)).toBe(true);
  });

  test.prop([qemuStream(), fc.integer({ min: 1, max: 5000 })], params)("decode then encode is byte-identical (whole document and streaming)", async ({ bytes }, chunk) => {
    const text = await decodeText(bytes);
    expect(same(await encode(JSON.parse(text)), bytes)).toBe(true);
    expect(same(await encodeText(text, chunk), bytes)).toBe(true);
  });

  test.prop([qemuStreamModel()], params)("3 -> 4 equals the independent format-4 bytes, and 4 -> 3 restores", async (model) => {
    const v3 = buildQemuStream(model, 3);
    const v4 = buildQemuStream(model, 4);
    expect(same(await convert(v3, "3", "4"), v4)).toBe(true);
    expect(same(await convert(v4, "4", "3"), v3)).toBe(true);
    expect(same(await recode(v4, "4"), v4)).toBe(true);
  });

  test.prop([qemuStream()], params)("the analyze view lists every section the model holds", async ({ model, bytes }) => {
    const a = (await qemuCodec.inspect(StreamReader.of(bytes), "3", { view: "analyze" })).json as Record<string, Record<string, unknown>>;
    const page = model.pageBits === null ? 4096 : 2 ** model.pageBits;
    const sizes = Object.fromEntries(model.blocks.map((b) => [b.name, `0x${(b.pages * page).toString(16).padStart(16, "0")}`]));
    expect(Object.keys(a)).toEqual([`ram (${model.ramId})`, ...model.devices.map((d) => `${d.idstr} (${d.id})`)]);
    expect(a[`ram (${model.ramId})`]).toEqual({ "section sizes": sizes });
    for (const d of model.devices) {
      const got = a[`${d.idstr} (${d.id})`]!;
      expect(Object.keys(got)).toEqual([...d.desc.fields.map((f) => f.name), ...d.desc.subsections.map((x) => x.name)]);
    }
  });

  test.prop([qemuStream(), fc.integer({ min: 1, max: 64 })], params)("chunk boundaries do not matter (non-seekable source)", async ({ bytes }, k) => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += k * 97) chunks.push(bytes.subarray(i, i + k * 97));
    const sink = new (await import("@vmstream/framing")).MemorySink();
    await qemuCodec.recode(new StreamReader(chunksSource(chunks), { chunkSize: 4096 }), "3", sink, {});
    expect(same(sink.bytes(), bytes)).toBe(true);
  });
});

/** verify's fault; `strict` (the default here) fails on damage after the VM state too. */
async function faultOf(bytes: Uint8Array, version: string, strict = true): Promise<WireError | null> {
  try {
    await qemuCodec.verify(StreamReader.of(bytes), version, strict ? { strict: true } : {});
    return null;
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return e;
  }
}

describe("damaged streams give a WireError with an offset inside the input", () => {
  test.prop(
    [qemuStream().chain(({ bytes }) => fc.tuple(fc.constant(bytes), mutation(bytes.length)))],
    params,
  )("mutations of generated streams", async ([bytes, m]) => {
    const bad = applyMutation(bytes, m);
    const e = await faultOf(bad, "3");
    if (e) {
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bad.length);
    }
    // Cutting the whole vmdesc off leaves a valid stream (QEMU loads it too); any other cut is a fault…
    if (m.kind === "truncate" && bytes[m.at] !== 0x06) expect(e).not.toBeNull();
    // …but a cut inside the vmdesc trailer (after the EOF byte) still loads: without --strict it is a warning.
    const trailer = locateVmdesc(bytes);
    if (m.kind === "truncate" && trailer > 0 && m.at > trailer) {
      expect(await faultOf(bad, "3", false)).toBeNull();
      const rep = await qemuCodec.verify(StreamReader.of(bad), "3", {});
      expect(rep.warnings?.[0]?.offset).toBe(trailer + 1);
    }
  });

  test.prop(
    [qemuStreamModel().chain((m) => {
      const v4 = buildQemuStream(m, 4);
      return fc.tuple(fc.constant(v4), mutation(v4.length));
    })],
    params,
  )("mutations of generated format-4 streams", async ([bytes, m]) => {
    const bad = applyMutation(bytes, m);
    const e = await faultOf(bad, "4");
    if (e) {
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(bad.length);
    } else {
      // Accepted (even with the trailer checked): then it is a format-4 stream we write back exactly.
      expect(same(await recode(bad, "4"), bad)).toBe(true);
    }
  });

  const real = fixture("pc-7.2-stopped.mig")!;
  test.prop([mutation(real.length)], propertyParams(40))("mutations of a real QEMU stream", async (m) => {
    const bad = applyMutation(real, m);
    for (const op of ["verify", "decode"] as const) {
      try {
        if (op === "verify") await qemuCodec.verify(StreamReader.of(bad), "3", {});
        else for await (const _ of qemuCodec.decode(StreamReader.of(bad), "3", {}));
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        expect((e as WireError).offset).toBeGreaterThanOrEqual(0);
        expect((e as WireError).offset).toBeLessThanOrEqual(bad.length);
      }
    }
  });
});

describe("hostile documents given to encode give a WireError, never another exception", () => {
  /** Every path to a value inside a JSON document. */
  const paths = (v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] => {
    out.push(at);
    if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
    else if (v && typeof v === "object") for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
    return out;
  };
  test.prop([qemuStream({ maxParts: 1, maxDevices: 2 }), fc.nat(), fc.jsonValue({ maxDepth: 2 })], params)(
    "one value replaced anywhere",
    async ({ bytes }, pick, replacement) => {
      const doc = JSON.parse(await decodeText(bytes));
      const all = paths(doc).filter((p) => p.length > 0);
      const p = all[pick % all.length]!;
      let parent = doc;
      for (const k of p.slice(0, -1)) parent = parent[k];
      parent[p[p.length - 1]!] = replacement;
      try {
        await encode(doc);
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
      }
    },
  );
});
