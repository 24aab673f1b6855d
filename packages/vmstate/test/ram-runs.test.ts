import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { MemorySink, StreamReader, WireError, chunksSource } from "@vmstream/framing";
import { applyMutation, mutation, propertyParams, qemuStream } from "@vmstream/testing";
import { ParseState, parseStream, qemuCodec, type ParseOptions } from "../src/index.js";
import { fixture } from "./qemu-helpers.js";

const params = propertyParams(60);

interface Outcome {
  fault: { code: string; offset: number; message: string } | null;
  totals: unknown;
  /** The RAM bytes of `ramRun` events and the offsets they claim, which must match. */
  runsOk: boolean;
}

/**
 * Parse `bytes` with `o`, through a non-seekable source cut into `chunk`-byte
 * pieces when `chunk` is given (runs then end at refills).
 */
async function outcome(bytes: Uint8Array, o: Partial<ParseOptions>, chunk?: number): Promise<Outcome> {
  const input =
    chunk === undefined
      ? StreamReader.of(bytes)
      : new StreamReader(chunksSource(Array.from({ length: Math.ceil(bytes.length / chunk) }, (_, i) => bytes.subarray(i * chunk, (i + 1) * chunk))), { chunkSize: chunk });
  const st = new ParseState(4096);
  let runsOk = true;
  let fault: Outcome["fault"] = null;
  try {
    for await (const ev of parseStream(input, { version: 3, pages: true, ...o }, st)) {
      if (ev.t === "ramRun" && Buffer.compare(ev.bytes, bytes.subarray(ev.offset, ev.offset + ev.bytes.byteLength)) !== 0) runsOk = false;
    }
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    fault = { code: e.code, offset: e.offset, message: e.message };
  }
  return { fault, totals: { ...st.ram.totals }, runsOk };
}

/** The record-by-record reading every fast path must agree with. */
const byRecord = (b: Uint8Array) => outcome(b, {});

describe("runs of plain RAM records read exactly like record by record", () => {
  test.prop([qemuStream(), fc.option(fc.integer({ min: 16, max: 9000 }), { nil: undefined })], params)("generated streams", async ({ bytes }, chunk) => {
    const want = await byRecord(bytes);
    expect(await outcome(bytes, { ramRuns: true }, chunk)).toEqual(want);
    expect(await outcome(bytes, { pages: false, ramBlocksOnly: true }, chunk)).toEqual(want);
  });

  test.prop([qemuStream().chain(({ bytes }) => fc.tuple(fc.constant(bytes), mutation(bytes.length)))], params)(
    "damaged streams: the same fault at the same offset",
    async ([bytes, m]) => {
      const bad = applyMutation(bytes, m);
      const want = await byRecord(bad);
      expect(await outcome(bad, { ramRuns: true })).toEqual(want);
      expect(await outcome(bad, { pages: false, ramBlocksOnly: true })).toEqual(want);
    },
  );

  const real = fixture("pc-7.2-stopped.mig")!;
  test.prop([mutation(real.length)], propertyParams(40))("damaged real streams", async (m) => {
    const bad = applyMutation(real, m);
    const want = await byRecord(bad);
    expect(await outcome(bad, { ramRuns: true })).toEqual(want);
    expect(await outcome(bad, { pages: false, ramBlocksOnly: true })).toEqual(want);
  });

  test.prop([fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 255 })], params)(
    "a record word damaged in the middle of a run: recode fails at that record",
    async (k, byte, x) => {
      const s = (await qemuCodec.inspect(StreamReader.of(real), "3", {})).json as { sections: { idstr: string; kind: string; offset: number; size: number }[] };
      const part = s.sections.find((x) => x.idstr === "ram" && x.kind === "part")!;
      // Walk k plain records into the section body: the word of the next one gets damaged.
      let p = part.offset + 5;
      for (let i = 0; i < k; i++) {
        const f = real[p + 7]!;
        const kind = f & ~0x20;
        if (kind !== 0x08 && kind !== 0x02) break;
        const name = f & 0x20 ? 0 : 1 + real[p + 8]!;
        p += 8 + name + (kind === 0x08 ? 4096 : 1);
      }
      const bad = real.slice();
      bad[p + byte]! ^= x;
      const want = await byRecord(bad);
      const sink = new MemorySink();
      const e = await qemuCodec.recode(StreamReader.of(bad), "3", sink, {}).then(
        () => null,
        (x: unknown) => x,
      );
      if (want.fault) {
        expect(e).toBeInstanceOf(WireError);
        expect({ code: (e as WireError).code, offset: (e as WireError).offset, message: (e as WireError).message }).toEqual(want.fault);
      } else {
        expect(e).toBeNull();
        expect(Buffer.compare(sink.bytes(), bad)).toBe(0);
      }
    },
  );
});
