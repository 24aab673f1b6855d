import { StreamReader, isWireError } from "@vmstream/framing";
import { test } from "@fast-check/vitest";
import { applyMutation, libxcImage, libxcImageBytes, libxlStream, libxlStreamBytes, mutation, propertyParams, xlFile, xlFileBytes } from "@vmstream/testing";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { libxcCodec, libxlCodec, verifyLibxc, xlCodec } from "../src/index.js";
import { pipeReader, roundTrip, sinkOf } from "./helpers.js";

const params = propertyParams(80);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("libxc properties", () => {
  test.prop([libxcImage({ optionalRecords: true })], params)("valid images verify (file and pipe) and survive recode and decode → encode", async (img) => {
    const b = libxcImageBytes(img);
    const v = String(img.header.version);
    await libxcCodec.verify(StreamReader.of(b), v, {});
    await libxcCodec.verify(pipeReader(b, 13), v, {});
    const { recoded, piped, encoded } = await roundTrip(libxcCodec, b, v);
    expect(same(recoded, b)).toBe(true);
    expect(same(piped, b)).toBe(true);
    expect(same(encoded, b)).toBe(true);
  });

  test.prop([libxcImage({ version: 2 })], params)("2 → 3 → 2 gives the same bytes, and the v3 form verifies", async (img) => {
    const v2 = libxcImageBytes(img);
    const v3 = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v2), "2", { family: "libxc", version: "3" }, s, {}));
    expect(v3.byteLength).toBe(v2.byteLength + 8);
    await verifyLibxc(StreamReader.of(v3), "3");
    const back = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v3), "3", { family: "libxc", version: "2" }, s, {}));
    expect(same(back, v2)).toBe(true);
  });

  test.prop([libxcImage({ version: 3 }).filter((i) => !i.records.some((r) => r.type === "X86_CPUID_POLICY" || r.type === "X86_MSR_POLICY"))], params)(
    "3 → 2 → 3 gives the same bytes when nothing v3-only is present",
    async (img) => {
      const v3 = libxcImageBytes(img);
      const v2 = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v3), "3", { family: "libxc", version: "2" }, s, {}));
      const back = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v2), "2", { family: "libxc", version: "3" }, s, {}));
      expect(same(back, v3)).toBe(true);
    },
  );
});

describe("libxl and xl properties", () => {
  test.prop([libxlStream()], params)("valid libxl streams survive recode and decode → encode (xenstore keys like __proto__ included)", async (s) => {
    const b = libxlStreamBytes(s);
    await libxlCodec.verify(pipeReader(b, 29), "2", {});
    const { recoded, piped, encoded } = await roundTrip(libxlCodec, b, "2");
    expect(same(recoded, b)).toBe(true);
    expect(same(piped, b)).toBe(true);
    expect(same(encoded, b)).toBe(true);
  });

  test.prop([xlFile()], params)("valid xl files survive recode and decode → encode", async (f) => {
    const b = xlFileBytes(f);
    const { recoded, piped, encoded } = await roundTrip(xlCodec, b, "1");
    expect(same(recoded, b)).toBe(true);
    expect(same(piped, b)).toBe(true);
    expect(same(encoded, b)).toBe(true);
  });
});

describe("robustness", () => {
  const base = fc.sample(libxcImage({ maxPageRecords: 2, maxPfnsPerRecord: 2 }), { seed: 7, numRuns: 4 }).map(libxcImageBytes);
  const lbase = fc.sample(libxlStream({ maxPageRecords: 1, maxPfnsPerRecord: 2 }), { seed: 8, numRuns: 4 }).map(libxlStreamBytes);
  const arb = (streams: Uint8Array[]) =>
    fc.integer({ min: 0, max: streams.length - 1 }).chain((i) => mutation(streams[i]!.byteLength, streams).map((m) => applyMutation(streams[i]!, m)));

  test.prop([arb(base)], propertyParams(200))("damaged libxc images are accepted or refused with a WireError, never anything else", async (b) => {
    const v = libxcCodec.detect(b.subarray(0, 4096)) ?? "3";
    for (const mode of ["verify", "decode"] as const) {
      try {
        if (mode === "verify") await libxcCodec.verify(StreamReader.of(b), v, {});
        else for await (const _ of libxcCodec.decode(StreamReader.of(b), v, {}));
      } catch (e) {
        expect(isWireError(e), String(e)).toBe(true);
      }
    }
  });

  const xbase = fc.sample(xlFile({ maxPageRecords: 1, maxPfnsPerRecord: 2 }), { seed: 9, numRuns: 3 }).map(xlFileBytes);

  test.prop([arb(lbase)], propertyParams(150))("damaged libxl streams likewise (verify, inspect, decode)", async (b) => {
    for (const op of [
      () => libxlCodec.verify(StreamReader.of(b), "2", {}),
      () => libxlCodec.inspect(StreamReader.of(b), "2", {}),
      async () => {
        for await (const _ of libxlCodec.decode(pipeReader(b, 61), "2", {}));
      },
    ]) {
      try {
        await op();
      } catch (e) {
        expect(isWireError(e), String(e)).toBe(true);
      }
    }
  });

  /*
   * Recode checks a stream as verify does and passes its bytes through: it
   * must accept exactly what the model reader under decode accepts (so the
   * check is as strict as re-encoding from the model would be), refuse with
   * verify's fault, and write back the input it accepted.
   */
  const families = [
    [libxcCodec, base],
    [libxlCodec, lbase],
    [xlCodec, xbase],
  ] as const;
  test.prop([fc.constantFrom(...families).chain(([c, streams]) => arb(streams).map((b) => [c, b] as const))], propertyParams(200))(
    "damaged streams: recode accepts what verify and decode accept, refuses with verify's fault, and writes the input back",
    async ([c, b]) => {
      const v = c.detect(b.subarray(0, 4096)) ?? c.versions[c.versions.length - 1]!;
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => "ok",
          (e: unknown) => (isWireError(e) ? `${e.code}@${e.offset}` : `not a WireError: ${String(e)}`),
        );
      const verified = await outcome(c.verify(StreamReader.of(b), v, {}));
      const decoded = await outcome(
        (async () => {
          for await (const _ of c.decode(StreamReader.of(b), v, {}));
        })(),
      );
      let out = new Uint8Array(0);
      const recoded = await outcome(sinkOf((s) => c.recode(StreamReader.of(b), v, s, {})).then((o) => (out = o)));
      expect(recoded).toBe(verified);
      expect(decoded === "ok").toBe(verified === "ok");
      if (recoded === "ok") expect(same(out, b)).toBe(true);
    },
  );

  test.prop([arb(xbase)], propertyParams(100))("damaged xl files likewise", async (b) => {
    try {
      await xlCodec.verify(StreamReader.of(b), "1", {});
    } catch (e) {
      expect(isWireError(e), String(e)).toBe(true);
    }
  });
});
