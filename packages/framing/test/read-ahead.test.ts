import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { MemorySink, type Source, StreamReader, TruncatedError, bytesSource, chunksSource } from "../src/index.js";
import { choppy } from "./sources.js";

/*
 * Read-ahead changes when the source is read, never what the caller sees:
 * any mix of take/skip/readInto/pipe over any chunking gives the same bytes
 * and the same offsets as a reader without it, and a seek is still a seek.
 */
const SEED = Number(process.env.FC_SEED ?? 0xa4ead);
console.info(`read-ahead: seed ${SEED}`);

type Op = { kind: "take" | "skip" | "readInto" | "pipe"; n: number };
const op: fc.Arbitrary<Op> = fc.record({ kind: fc.constantFrom("take", "skip", "readInto", "pipe"), n: fc.integer({ min: 0, max: 900 }) });

/** Apply the ops, recording what each one saw; a shortfall ends the run with its kind and offset. */
async function run(r: StreamReader, ops: Op[]): Promise<unknown[]> {
  const seen: unknown[] = [];
  try {
    for (const o of ops) {
      if (o.kind === "take") {
        await r.need(o.n);
        seen.push(Array.from(r.take(o.n)));
      } else if (o.kind === "skip") {
        await r.skip(o.n);
        seen.push(r.offset);
      } else if (o.kind === "readInto") {
        const into = new Uint8Array(o.n);
        await r.readInto(into);
        seen.push(Array.from(into));
      } else {
        const s = new MemorySink();
        await r.pipe(o.n, s);
        seen.push(Array.from(s.bytes()));
      }
    }
    seen.push(["end", await r.atEnd(), r.offset]);
  } catch (e) {
    if (!(e instanceof TruncatedError)) throw e;
    seen.push(["truncated", e.offset]);
  }
  await r.close();
  return seen;
}

describe("StreamReader read-ahead", () => {
  // Lengths drawn explicitly: fast-check's default size would keep arrays to a few bytes.
  const input = fc.tuple(fc.integer({ min: 0, max: 6000 }), fc.integer()).map(([n, salt]) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + salt) & 255));
  test.prop([input, fc.array(op, { maxLength: 25, size: "max" }), fc.integer({ min: 16, max: 1024 }), fc.integer({ min: 1, max: 700 })], { seed: SEED, numRuns: 300 })(
    "sees exactly what a reader without it sees",
    async (bytes, ops, chunkSize, step) => {
      const plain = await run(new StreamReader(choppy(bytes, step), { chunkSize }), ops);
      const ahead = await run(new StreamReader(choppy(bytes, step), { chunkSize, readAhead: true }), ops);
      expect(ahead).toEqual(plain);
      const chunked = await run(new StreamReader(chunksSource([bytes.subarray(0, step), bytes.subarray(step)]), { chunkSize, readAhead: true }), ops);
      expect(chunked).toEqual(plain);
    },
  );

  it("still seeks over a bulk payload instead of reading through it", async () => {
    const bytes = Uint8Array.from({ length: 4 << 20 }, (_, i) => (i * 131) >>> 7);
    const src = choppy(bytes, 1 << 20);
    let read = 0;
    const counting: Source = { ...src, read: async (into) => { const k = await src.read(into); read += k; return k; } };
    const r = new StreamReader(counting, { chunkSize: 64 << 10, readAhead: true });
    await r.need(16);
    r.take(16);
    await r.skip(3 << 20);
    await r.need(16);
    expect(r.offset).toBe(16 + (3 << 20));
    expect(r.take(16)).toEqual(bytes.subarray(16 + (3 << 20), 32 + (3 << 20)));
    expect(src.seeks).toBe(1);
    expect(read).toBeLessThan(1 << 20);
    await r.close();
  });
});
