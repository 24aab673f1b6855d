import { fc, test } from "@fast-check/vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { batched } from "@vmstream/framing";
import { atomicFileSink } from "../src/index.js";

/*
 * The output sinks coalesce small writes into slots and take them without a
 * promise when they fit. Whatever the mix of sizes — tiny records, chunks that
 * straddle a 4 MiB slot, chunks larger than a slot — and even when the caller
 * reuses its buffer right after each write, the file holds exactly the bytes
 * written, in order.
 */
const SEED = Number(process.env.FC_SEED ?? 0x51_4b5);
console.info(`sink: seed ${SEED}`);
const MiB = 1 << 20;
const sizes = fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 9 * MiB })), { minLength: 1, maxLength: 8, size: "max" });

async function writeAll(write: (c: Uint8Array) => void | Promise<void>, lens: number[]): Promise<Uint8Array> {
  const total = lens.reduce((a, b) => a + b, 0);
  const expected = new Uint8Array(total);
  const scratch = new Uint8Array(Math.max(...lens, 1));
  let at = 0;
  for (const [k, n] of lens.entries()) {
    for (let i = 0; i < n; i++) scratch[i] = (at + i + k) & 255;
    expected.set(scratch.subarray(0, n), at);
    const p = write(scratch.subarray(0, n));
    if (p) await p;
    scratch.fill(0xee); // reused at once: the sink must have taken the bytes
    at += n;
  }
  return expected;
}

describe("the atomic file sink coalesces", () => {
  test.prop([sizes], { seed: SEED, numRuns: 10 })("the atomic file sink writes exactly what it was given", async (lens) => {
    const path = join(mkdtempSync(join(tmpdir(), "sink-")), "out");
    const s = await atomicFileSink(path);
    expect(s.coalesces).toBe(true);
    const out = batched(s);
    const expected = await writeAll((c) => out.write(c), lens);
    await out.flush();
    await s.close();
    expect(Buffer.compare(readFileSync(path), Buffer.from(expected))).toBe(0);
  });
});
