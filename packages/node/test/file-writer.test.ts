import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { atomicFileSink } from "../src/index.js";

/**
 * The atomic file sink gathers small pieces into a 4 MiB buffer and writes
 * large ones (256 KiB and more) straight from the caller's memory, at explicit
 * offsets: the caller may reuse its buffer as soon as `write` returns, pieces
 * of any size land in order, and abort leaves nothing behind.
 */
const dir = mkdtempSync(join(tmpdir(), "framing-wb-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("atomic file sink (gathered and direct writes)", () => {
  it("pieces from 1 byte to 9 MiB, written from one reused buffer, arrive in order", async () => {
    const sizes = [1, 7, 4096, (4 << 20) - 3, 5, 9 << 20, 123_457, (256 << 10) - 1, 256 << 10, 4 << 20, 2];
    const scratch = new Uint8Array(9 << 20);
    const expected = createHash("sha256");
    const s = await atomicFileSink(join(dir, "big"));
    let seed = 1;
    for (const n of sizes) {
      const piece = scratch.subarray(0, n);
      for (let i = 0; i < n; i++) piece[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
      expected.update(piece);
      await s.write(piece);
      piece.fill(0xee); // the caller reuses its buffer at once
    }
    await s.close();
    const got = readFileSync(join(dir, "big"));
    expect(got.length).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(createHash("sha256").update(got).digest("hex")).toBe(expected.digest("hex"));
  });

  it("abort after gathered and direct writes removes the temporary file", async () => {
    const d = mkdtempSync(join(dir, "abort-"));
    const s = await atomicFileSink(join(d, "out"));
    await s.write(new Uint8Array(6 << 20).fill(1));
    await s.write(new Uint8Array(3 << 20).fill(2));
    await s.abort!();
    expect(readdirSync(d)).toEqual([]);
  });
});
