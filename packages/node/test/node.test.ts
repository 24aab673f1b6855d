import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StreamReader, TruncatedError } from "@vmstream/framing";
import { atomicFileSink, fileSource } from "../src/index.js";

describe("Node sources and sinks", () => {
  it("a file source seeks over payloads and reads the rest", async () => {
    const d = mkdtempSync(join(tmpdir(), "framing-"));
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i & 255);
    writeFileSync(join(d, "f"), bytes);
    const r = new StreamReader(await fileSource(join(d, "f")), { chunkSize: 256 });
    expect(r.size).toBe(10_000);
    await r.need(10);
    expect(r.take(10)).toEqual(bytes.subarray(0, 10));
    await r.skip(9_000);
    await r.need(990);
    expect(r.take(990)).toEqual(bytes.subarray(9_010));
    expect(await r.atEnd()).toBe(true);
    await expect(r.skip(1)).rejects.toBeInstanceOf(TruncatedError);
    await r.close();
  });

  it("an atomic sink shows the file only when closed, and leaves nothing when aborted", async () => {
    const d = mkdtempSync(join(tmpdir(), "framing-"));
    const s = await atomicFileSink(join(d, "out"));
    await s.write(Uint8Array.from([1, 2, 3]));
    expect(readdirSync(d)).not.toContain("out");
    await s.close();
    expect(readFileSync(join(d, "out"))).toEqual(Buffer.from([1, 2, 3]));
    const a = await atomicFileSink(join(d, "other"));
    await a.write(Uint8Array.from([9]));
    await a.abort!();
    expect(readdirSync(d)).toEqual(["out"]);
  });

  it("a rename that fails (target is a directory) leaves no temporary file", async () => {
    const d = mkdtempSync(join(tmpdir(), "framing-"));
    mkdirSync(join(d, "dir"));
    writeFileSync(join(d, "dir", "x"), "keep");
    const s = await atomicFileSink(join(d, "dir"));
    await s.write(Uint8Array.from([1]));
    await expect(s.close()).rejects.toThrow();
    expect(readdirSync(d)).toEqual(["dir"]);
  });
});
