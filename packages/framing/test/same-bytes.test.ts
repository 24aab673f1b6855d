import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { NotIdentityError, SameBytes, StreamReader } from "../src/index.js";
import { choppy } from "./sources.js";

/*
 * SameBytes: a "writer" re-emits what it reads from a pass-through reader,
 * in its own pieces — some as views of the reader's buffer (the RAM-run case,
 * held without a copy), some from a buffer of its own that it reuses at once
 * (re-encoded state), some held back and written late (a writer's batching).
 * Equal bytes pass whatever the interleaving; one changed byte, a missing or
 * an extra byte is a NotIdentityError.
 */
const SEED = Number(process.env.FC_SEED ?? 0x5a_3e);
console.info(`same-bytes: seed ${SEED}`);

/** How the writer handles one piece: its length, how it writes it, and whether it holds it back. */
const piece = fc.record({ n: fc.integer({ min: 1, max: 5000 }), view: fc.boolean(), late: fc.boolean() });

async function rewrite(bytes: Uint8Array, plan: { n: number; view: boolean; late: boolean }[], flip = -1): Promise<SameBytes> {
  const r = new StreamReader(choppy(bytes, 3000), { chunkSize: 4096 });
  const same = new SameBytes(r);
  r.passThrough(same.expected);
  const own = new Uint8Array(5000);
  let held: Uint8Array | null = null;
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const p = plan[i % plan.length]!;
    const n = Math.min(p.n, bytes.byteLength - at);
    await r.need(n);
    const v = r.take(n);
    let out: Uint8Array;
    if (p.view && !p.late) out = v;
    else {
      out = p.late ? v.slice() : own.subarray(0, n);
      out.set(v);
    }
    if (flip >= at && flip < at + n) {
      // A view is the input itself: the writer's changed byte goes out in a copy.
      if (out === v) out = v.slice();
      out[flip - at] ^= 0x01;
    }
    if (held) await same.sink.write(held);
    held = null;
    if (p.late) held = out;
    else await same.sink.write(out);
    if (!p.late && !p.view) own.fill(0xee); // the writer's buffer is reused at once
    at += n;
  }
  if (held) await same.sink.write(held);
  await r.endPassThrough();
  return same;
}

const input = fc.uint8Array({ minLength: 1, maxLength: 40_000 });

describe("SameBytes", () => {
  test.prop([input, fc.array(piece, { minLength: 1, maxLength: 8 })], { seed: SEED, numRuns: 60 })("the same bytes, in any pieces and order of arrival, pass", async (bytes, plan) => {
    const same = await rewrite(bytes, plan);
    expect(() => same.finish()).not.toThrow();
  });

  test.prop([input, fc.array(piece, { minLength: 1, maxLength: 8 }), fc.nat()], { seed: SEED, numRuns: 60 })("one changed byte is found, at its offset", async (bytes, plan, k) => {
    const target = k % bytes.byteLength;
    let thrown: unknown = null;
    try {
      const same = await rewrite(bytes, plan, target);
      same.finish();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(NotIdentityError);
    expect((thrown as NotIdentityError).at).toBe(target);
  });

  it("bytes the writer never wrote, or wrote twice, or out of order, fail", async () => {
    const bytes = Uint8Array.from({ length: 10_000 }, (_, i) => i & 0xff);
    const short = new SameBytes(StreamReader.of(bytes));
    await short.expected.write(bytes);
    await short.sink.write(bytes.slice(0, 9_999));
    expect(() => short.finish()).toThrow(NotIdentityError);

    const long = new SameBytes(StreamReader.of(bytes));
    await long.expected.write(bytes);
    await long.sink.write(bytes.slice());
    await long.sink.write(bytes.slice(0, 1));
    expect(() => long.finish()).toThrow(NotIdentityError);

    const placed = new SameBytes(StreamReader.of(bytes));
    await expect(placed.sink.writeAt!(0, bytes)).rejects.toThrow(NotIdentityError);
  });
});
