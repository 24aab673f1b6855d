import { test } from "@fast-check/vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect } from "vitest";
import { batched } from "@vmstream/framing";
import { atomicFileSink } from "../src/index.js";
import { sinkWriteSizes, writeAll } from "../../framing/test/sink-writes.js";

/*
 * The atomic file sink coalesces as framing's sinks do (framing's
 * sink.test.ts, whose write pattern this reuses): whatever the mix of sizes,
 * and with the caller's buffer reused at once, the file holds exactly the
 * bytes written, in order.
 */
const SEED = Number(process.env.FC_SEED ?? 0x51_4b5);
console.info(`sink: seed ${SEED}`);
describe("the atomic file sink coalesces", () => {
  test.prop([sinkWriteSizes], { seed: SEED, numRuns: 10 })("the atomic file sink writes exactly what it was given", async (lens) => {
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
