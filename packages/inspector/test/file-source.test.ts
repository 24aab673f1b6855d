import { StreamReader } from "@vmstream/framing";
import { describe, expect, it } from "vitest";
import { fileSource } from "../src/file-source.js";

// Node 20 has the browser's File and Blob.stream(), so the worker's source runs here as it does in Chromium.
const bytes = new Uint8Array(12 << 20).map((_, i) => (i * 7 + (i >> 13)) & 0xff);
const file = new File([bytes], "x.bin");

describe("the worker's File source", () => {
  it("reads every byte in order", async () => {
    const r = new StreamReader(fileSource(file), { chunkSize: 1 << 16 });
    let at = 0;
    while (await r.fill(1)) {
      const k = Math.min(r.buffered, 100_003);
      // Buffer.equals, not toEqual: a deep compare of 12 MiB element by element takes most of a minute.
      expect(Buffer.from(r.take(k)).equals(bytes.subarray(at, at + k)), `bytes at ${at}`).toBe(true);
      at += k;
    }
    expect(at).toBe(bytes.byteLength);
  });

  it("skips short spans by reading and long spans by reopening the stream, landing on the right byte", async () => {
    const r = new StreamReader(fileSource(file), { chunkSize: 1 << 16 });
    await r.skip(10); // inside the buffer
    await r.skip(300_000); // short: read through
    await r.skip(6 << 20); // long: reopened at the target
    const at = 10 + 300_000 + (6 << 20);
    await r.need(4);
    expect(r.offset).toBe(at);
    expect(r.take(4)).toEqual(bytes.subarray(at, at + 4));
    await expect(r.skip(bytes.byteLength)).rejects.toThrow(/truncated/);
  });
});
