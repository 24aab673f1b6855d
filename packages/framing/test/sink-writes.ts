import { fc } from "@fast-check/vitest";

/*
 * The write pattern the coalescing-sink properties use (this package's
 * sink.test.ts, and @vmstream/node's atomic-sink.test.ts for the file sink):
 * tiny records, chunks that straddle a 4 MiB slot, chunks larger than a slot.
 */
const MiB = 1 << 20;
export const sinkWriteSizes = fc.array(fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 9 * MiB })), { minLength: 1, maxLength: 8, size: "max" });

/**
 * Write chunks of `lens` bytes through `write`, reusing one buffer that is
 * overwritten right after each write (the sink must have taken the bytes);
 * resolves with what the output must hold.
 */
export async function writeAll(write: (c: Uint8Array) => void | Promise<void>, lens: number[]): Promise<Uint8Array> {
  const total = lens.reduce((a, b) => a + b, 0);
  const expected = new Uint8Array(total);
  const scratch = new Uint8Array(Math.max(...lens, 1));
  let at = 0;
  for (const [k, n] of lens.entries()) {
    for (let i = 0; i < n; i++) scratch[i] = (at + i + k) & 255;
    expected.set(scratch.subarray(0, n), at);
    const p = write(scratch.subarray(0, n));
    if (p) await p;
    scratch.fill(0xee);
    at += n;
  }
  return expected;
}
