import { describe, expect, it } from "vitest";
import { TruncatedError } from "../src/errors.js";
import { chunksSource } from "../src/source.js";
import { StreamReader } from "../src/stream-reader.js";

describe("StreamReader.readInto", () => {
  const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
  it("fills the caller's buffer from what is buffered, then straight from the source", async () => {
    const r = new StreamReader(chunksSource([bytes.subarray(0, 7), bytes.subarray(7, 50), bytes.subarray(50)]), { chunkSize: 16 });
    await r.fill(3);
    r.take(2);
    const into = new Uint8Array(60);
    await r.readInto(into);
    expect(into).toEqual(bytes.subarray(2, 62));
    expect(r.offset).toBe(62);
    await r.fill(4);
    expect(r.take(4)).toEqual(bytes.subarray(62, 66));
  });
  it("reports a shortfall as TruncatedError at the start of the read", async () => {
    const r = StreamReader.of(bytes);
    r.take(0);
    await r.fill(10);
    r.take(10);
    const e = await r.readInto(new Uint8Array(200), "page data").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TruncatedError);
    expect((e as TruncatedError).offset).toBe(10);
  });
});
