import { describe, expect, it } from "vitest";
import { StreamReader } from "../src/index.js";
import { recordingSource } from "./sources.js";

describe("StreamReader buffer reuse", () => {
  // A first touch of memory costs a page fault per 4 KiB: reads after seeks must reuse the buffer's front,
  // not walk through all of a fresh chunk (a verify's 128 seeks did).
  it("a header read after each seek lands at the buffer's front, and the bytes are right", async () => {
    const RECORD = 300_000;
    const bytes = new Uint8Array(RECORD * 40);
    for (let i = 0; i < 40; i++) new DataView(bytes.buffer).setUint32(i * RECORD, i * 7 + 1, true);
    const landed: number[] = [];
    const r = new StreamReader(recordingSource(bytes, landed), { chunkSize: 4 << 20 });
    for (let i = 0; i < 40; i++) {
      await r.need(16, "header");
      expect(r.offset).toBe(i * RECORD);
      expect(new DataView(r.take(16).slice().buffer).getUint32(0, true)).toBe(i * 7 + 1);
      await r.skip(RECORD - 16);
    }
    expect(await r.atEnd()).toBe(true);
    expect(landed.length).toBeGreaterThanOrEqual(40);
    // Every read started within the first 64 KiB of the buffer (a 4 MiB chunk would otherwise be walked through).
    expect(Math.max(...landed)).toBeLessThan(64 << 10);
  });
});
