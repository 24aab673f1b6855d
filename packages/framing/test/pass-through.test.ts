import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { MemorySink, StreamReader, TruncatedError, bytesSource, chunksSource } from "../src/index.js";
import { choppy } from "./sources.js";

/*
 * Pass-through (recode of a stream that is its own re-encoding): whatever the
 * caller consumes, by whatever means, reaches the output exactly once and in
 * order, while the caller still sees the same bytes. The oracle is the input
 * itself: the output must be input[from, offset) after endPassThrough.
 */
const SEED = Number(process.env.FC_SEED ?? 0x9a55);
console.info(`pass-through: seed ${SEED}`);

type Op = { kind: "take" | "discard" | "skip" | "skipZeros" | "readInto" | "pipe" | "peek"; n: number };
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("take", "discard", "skip", "skipZeros", "readInto", "pipe", "peek"),
  n: fc.integer({ min: 0, max: 900 }),
});

/** An output that takes its time (a promise per write) and keeps a copy, as a file sink does before resolving. */
class SlowSink extends MemorySink {
  override async write(chunk: Uint8Array): Promise<void> {
    await new Promise((r) => setImmediate(r));
    super.write(chunk);
  }
}

/** Apply the ops; every view handed out is compared with the input at once (a view is valid until the next refill). */
async function run(r: StreamReader, bytes: Uint8Array, ops: Op[]): Promise<void> {
  try {
    for (const o of ops) {
      const at = r.offset;
      if (o.kind === "take") {
        await r.need(o.n);
        expect(r.take(o.n)).toEqual(bytes.subarray(at, at + o.n));
      } else if (o.kind === "discard") {
        await r.need(o.n);
        r.discard(o.n);
      } else if (o.kind === "skip") await r.skip(o.n);
      else if (o.kind === "skipZeros") {
        await r.fill(o.n);
        const zero = o.n <= r.buffered && bytes.subarray(at, at + o.n).every((b) => b === 0);
        expect(r.skipZeros(o.n)).toBe(zero);
      } else if (o.kind === "readInto") {
        const into = new Uint8Array(o.n);
        await r.readInto(into);
        expect(into).toEqual(bytes.subarray(at, at + o.n));
      } else if (o.kind === "pipe") {
        const s = new MemorySink();
        await r.pipe(o.n, s);
        expect(s.bytes()).toEqual(bytes.subarray(at, at + o.n));
      } else {
        await r.fill(o.n);
        expect(r.peek(o.n)).toEqual(bytes.subarray(at, at + Math.min(o.n, r.buffered)));
      }
      expect(r.offset).toBeGreaterThanOrEqual(at);
    }
  } catch (e) {
    if (!(e instanceof TruncatedError)) throw e;
  }
}

describe("StreamReader.passThrough", () => {
  // Runs of zeros among other bytes, so skipZeros both succeeds and refuses.
  const input = fc
    .tuple(fc.integer({ min: 0, max: 6000 }), fc.integer(), fc.integer({ min: 1, max: 9 }))
    .map(([n, salt, z]) => Uint8Array.from({ length: n }, (_, i) => ((i >> 5) % z === 0 ? 0 : (i * 131 + salt) & 255)));
  const reader = fc.constantFrom("choppy", "chunks", "ahead", "bytes");
  test.prop([input, fc.array(op, { maxLength: 25, size: "max" }), fc.integer({ min: 16, max: 1024 }), fc.integer({ min: 1, max: 700 }), reader, fc.nat({ max: 100 }), fc.boolean()], {
    seed: SEED,
    numRuns: 400,
  })("writes every consumed byte once, in order, whatever consumed it", async (bytes, ops, chunkSize, step, kind, lead, slow) => {
    const src = kind === "chunks" ? chunksSource([bytes.subarray(0, step), bytes.subarray(step)]) : kind === "bytes" ? bytesSource(bytes) : choppy(bytes, step);
    const r = new StreamReader(src, { chunkSize, readAhead: kind === "ahead" });
    // Bytes consumed before pass-through starts are not written (a header read to detect the format is peeked, not consumed).
    const from = Math.min(lead, bytes.byteLength);
    await r.need(from);
    r.take(from);
    const out = slow ? new SlowSink() : new MemorySink();
    r.passThrough(out);
    await run(r, bytes, ops);
    await r.endPassThrough();
    expect(out.bytes()).toEqual(bytes.subarray(from, r.offset));
    await r.close();
  });

  it("reads what it would otherwise seek over, and stops writing after endPassThrough", async () => {
    const bytes = Uint8Array.from({ length: 3 << 20 }, (_, i) => (i * 131) >>> 7);
    const src = choppy(bytes, 1 << 20);
    const r = new StreamReader(src, { chunkSize: 64 << 10 });
    const out = new MemorySink();
    r.passThrough(out);
    await r.skip(2 << 20);
    expect(src.seeks).toBe(0);
    await r.endPassThrough();
    await r.skip(512 << 10);
    expect(src.seeks).toBe(1);
    expect(out.bytes()).toEqual(bytes.subarray(0, 2 << 20));
    await r.close();
  });

  it("passes runs of consumed bytes as large views of its buffer, not piece by piece", async () => {
    const bytes = Uint8Array.from({ length: 1 << 20 }, (_, i) => i & 255);
    const r = new StreamReader(chunksSource([bytes]), { chunkSize: 256 << 10 });
    const sizes: number[] = [];
    r.passThrough({ write: (c) => void sizes.push(c.byteLength) });
    // 16-byte "records", as a verifier consumes them.
    while (await r.fill(16)) r.discard(16);
    await r.endPassThrough();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1 << 20);
    expect(sizes.length).toBeLessThanOrEqual(8);
  });
});
