import { appendFileSync, chmodSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WireError } from "@vmstream/framing";
import { atomicCopy, atomicFileSink } from "../src/index.js";

/*
 * atomicCopy: the kernel copies the file while `check` runs; the output
 * appears whole (cut to what the check keeps) or not at all.
 */
const dir = () => mkdtempSync(join(tmpdir(), "copy-"));
const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + (i >>> 8)) & 0xff);

describe("atomicCopy", () => {
  it("writes the input's bytes under the output's name, with the mode every new output gets", async () => {
    const d = dir();
    const src = join(d, "in.bin");
    writeFileSync(src, bytes(3 << 20));
    chmodSync(src, 0o600); // the copy does not take the input's mode
    let checked = false;
    await atomicCopy(src, join(d, "out.bin"), async () => {
      checked = true;
      return 3 << 20;
    });
    expect(checked).toBe(true);
    expect(readFileSync(join(d, "out.bin")).equals(readFileSync(src))).toBe(true);
    const sink = await atomicFileSink(join(d, "sink.bin"));
    await sink.close();
    expect(statSync(join(d, "out.bin")).mode).toBe(statSync(join(d, "sink.bin")).mode);
    expect(readdirSync(d).sort()).toEqual(["in.bin", "out.bin", "sink.bin"]);
  });

  it("keeps only the bytes the check consumed", async () => {
    const d = dir();
    const src = join(d, "in.bin");
    writeFileSync(src, bytes(70_000));
    await atomicCopy(src, join(d, "out.bin"), async () => 65_536);
    expect(readFileSync(join(d, "out.bin")).equals(readFileSync(src).subarray(0, 65_536))).toBe(true);
  });

  it("a check that throws leaves no output and no temporary, and an existing output untouched", async () => {
    const d = dir();
    const src = join(d, "in.bin");
    writeFileSync(src, bytes(1 << 20));
    writeFileSync(join(d, "out.bin"), "old");
    const bad = new WireError("MALFORMED", "not a stream", 8);
    await expect(atomicCopy(src, join(d, "out.bin"), async () => Promise.reject(bad))).rejects.toBe(bad);
    expect(readFileSync(join(d, "out.bin"), "utf8")).toBe("old");
    expect(readdirSync(d).sort()).toEqual(["in.bin", "out.bin"]);
  });

  it("an input that changes while it is checked is refused: nothing written", async () => {
    const d = dir();
    const src = join(d, "in.bin");
    writeFileSync(src, bytes(1 << 20));
    const p = atomicCopy(src, join(d, "out.bin"), async () => {
      appendFileSync(src, "more");
      return 1 << 20;
    });
    await expect(p).rejects.toThrow(/changed while it was read: nothing written/);
    expect(readdirSync(d)).toEqual(["in.bin"]);
  });
});
