import { test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { BufferedSink, MemorySink, batched } from "../src/index.js";
import { sinkWriteSizes, writeAll } from "./sink-writes.js";

/*
 * The output sinks coalesce small writes into slots and take them without a
 * promise when they fit. Whatever the mix of sizes — tiny records, chunks that
 * straddle a 4 MiB slot, chunks larger than a slot — and even when the caller
 * reuses its buffer right after each write, the file holds exactly the bytes
 * written, in order.
 */
const SEED = Number(process.env.FC_SEED ?? 0x51_4b5);
console.info(`sink: seed ${SEED}`);
describe("coalescing sinks", () => {
  test.prop([sinkWriteSizes], { seed: SEED, numRuns: 10 })("a BufferedSink over a plain sink writes exactly what it was given", async (lens) => {
    const mem = new MemorySink();
    const out = batched(mem);
    expect(out).toBeInstanceOf(BufferedSink);
    const expected = await writeAll((c) => out.write(c), lens);
    await out.flush();
    expect(Buffer.compare(mem.bytes(), expected)).toBe(0);
  });
});
