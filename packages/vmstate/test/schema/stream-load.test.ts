/**
 * loadStateFrom over a StreamReader fed in small pieces gives what loadState
 * gives over the whole buffer, consumes exactly the description's bytes, and
 * keeps QEMU's peek semantics when a subsection header straddles a window.
 */
import { fc, test } from "@fast-check/vitest";
import { StreamReader, chunksSource, WireError } from "@vmstream/framing";
import { arbitraryState, propertyParams } from "@vmstream/testing";
import { describe, expect } from "vitest";
import { sampleDevices, sampleReleases } from "../../src/samples/index.js";
import { defineVmsd, loadState, loadStateFrom, saveState } from "../../src/schema/index.js";

function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.slice(i, i + size));
  return out;
}

const params = propertyParams(40) as { numRuns?: number; seed?: number };
const timer = sampleReleases(sampleDevices[1]!).at(-1)!.schema;

describe("loadStateFrom", () => {
  test.prop(
    [arbitraryState(timer), fc.constantFrom(3 as const, 4 as const), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 40 }), fc.uint8Array({ maxLength: 8 })],
    params,
  )("same state as loadState, exactly the description's bytes consumed", async (state, format, chunk, window, tail) => {
    const bytes = saveState(timer, state, { format });
    // A footer-like byte first, so the tail can never pass for a subsection.
    const stream = new Uint8Array([...bytes, 0x7e, ...tail]);
    const sr = new StreamReader(chunksSource(pieces(stream, chunk)), { chunkSize: chunk });
    const got = await loadStateFrom(timer, sr, { format, initialWindow: window });
    expect(got).toEqual(loadState(timer, bytes, { format }));
    expect(sr.offset).toBe(bytes.length);
  });

  test("a subsection header cut by the first window is still found", async () => {
    const sub = defineVmsd({ name: "d/s", version: 1, minimumVersion: 1, fields: [{ name: "v", type: "uint8" }] });
    const d = defineVmsd({ name: "d", version: 1, minimumVersion: 1, fields: [{ name: "a", type: "uint8" }], subsections: [sub] });
    const bytes = saveState(d, { a: 1, "d/s": { v: 2 } });
    for (let w = 1; w < bytes.length; w++) {
      const sr = new StreamReader(chunksSource(pieces(bytes, 1)), { chunkSize: 1 });
      expect(await loadStateFrom(d, sr, { initialWindow: w })).toEqual({ a: 1, "d/s": { v: 2 } });
    }
  });

  test("at the real end of the stream a short peek ends the subsections, as in QEMU", async () => {
    const d = defineVmsd({ name: "d", version: 1, minimumVersion: 1, fields: [{ name: "a", type: "uint8" }] });
    const sr = new StreamReader(chunksSource([Uint8Array.of(1, 0x05, 3)]), { chunkSize: 1 });
    expect(await loadStateFrom(d, sr)).toEqual({ a: 1 });
    expect(sr.offset).toBe(1);
  });

  test("faults keep absolute offsets; a window limit is a LimitError", async () => {
    const d = defineVmsd({ name: "d", fields: [{ name: "n", type: "uint32" }, { name: "b", type: "uint8", count: { field: "n", width: "uint32" } }] });
    const head = new Uint8Array(10).fill(0xee);
    const sr = new StreamReader(chunksSource([head, Uint8Array.of(0, 0, 0, 5, 1, 2)]), { chunkSize: 4 });
    await sr.skip(10);
    await expect(loadStateFrom(d, sr)).rejects.toMatchObject({ code: "LIMIT_EXCEEDED", offset: 14 });
    // 65536 elements that are all there, across many refills.
    const ok = new StreamReader(chunksSource([Uint8Array.of(0, 1, 0, 0), new Uint8Array(65_536), Uint8Array.of(0x7e)]), { chunkSize: 1000 });
    expect(((await loadStateFrom(d, ok, { initialWindow: 16 })).b as number[]).length).toBe(65_536);
    expect(ok.offset).toBe(4 + 65_536);
    const big = new StreamReader(chunksSource([Uint8Array.of(0, 1, 0, 0), new Uint8Array(70_000)]), { chunkSize: 1024 });
    await expect(loadStateFrom(d, big, { maxWindow: 1 << 15 })).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
  });
});
