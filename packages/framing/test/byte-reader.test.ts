import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ByteReader, ByteWriter, TruncatedError, WireError } from "../src/index.js";

describe("ByteReader", () => {
  it("reads each width in both byte orders", () => {
    const b = Uint8Array.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]);
    expect(new ByteReader(b).u16le()).toBe(0x0201);
    expect(new ByteReader(b).u16be()).toBe(0x0102);
    expect(new ByteReader(b).u32le()).toBe(0x04030201);
    expect(new ByteReader(b).u32be()).toBe(0x01020304);
    expect(new ByteReader(b).u64le()).toBe(0x0807060504030201n);
    expect(new ByteReader(b).u64be()).toBe(0x0102030405060708n);
    expect(new ByteReader(Uint8Array.from([0, 0x1f, 2, 3, 4, 5, 6, 7])).u64beSafe()).toBe(0x1f020304050607);
  });

  it("reports truncation at the absolute offset of the field", () => {
    const r = new ByteReader(new Uint8Array(6), 100);
    r.u32le();
    const e = (() => {
      try {
        r.u32le();
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(TruncatedError);
    expect((e as WireError).offset).toBe(104);
    expect((e as TruncatedError).available).toBe(2);
  });

  it("refuses u64 values above 2^53 on the safe path", () => {
    const b = new ByteWriter().u64le(2n ** 53n).finish();
    expect(() => new ByteReader(b).u64leSafe("len")).toThrow(/len too large/);
  });

  it("rejects non-zero padding naming the byte", () => {
    const r = new ByteReader(Uint8Array.from([0, 0, 7, 0]), 16);
    expect(() => r.zeros(4)).toThrow(WireError);
    try {
      new ByteReader(Uint8Array.from([0, 0, 7, 0]), 16).zeros(4);
    } catch (e) {
      expect((e as WireError).offset).toBe(18);
      expect((e as WireError).code).toBe("NONZERO_PADDING");
    }
  });
});

const scalar = fc.oneof(
  fc.record({ t: fc.constant("u8" as const), v: fc.integer({ min: 0, max: 0xff }) }),
  fc.record({ t: fc.constant("u16le" as const), v: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ t: fc.constant("u16be" as const), v: fc.integer({ min: 0, max: 0xffff }) }),
  fc.record({ t: fc.constant("u32le" as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ t: fc.constant("u32be" as const), v: fc.integer({ min: 0, max: 0xffffffff }) }),
  fc.record({ t: fc.constant("i32be" as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ t: fc.constant("u64le" as const), v: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
  fc.record({ t: fc.constant("i64be" as const), v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
);

test.prop([fc.array(scalar, { maxLength: 50 })])("writer then reader gives every value back", (fields) => {
  const w = new ByteWriter(1);
  for (const f of fields) (w[f.t] as (v: number | bigint) => ByteWriter).call(w, f.v);
  const r = new ByteReader(w.finish());
  for (const f of fields) expect((r[f.t] as () => number | bigint).call(r)).toBe(f.v);
  expect(r.done).toBe(true);
});
