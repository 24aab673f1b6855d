import { fc, test } from "@fast-check/vitest";
import { expect, it } from "vitest";
import { MalformedError, fromBase64, jsonText, safeObject, toBase64, toBigInt } from "../src/index.js";

test.prop([fc.uint8Array({ maxLength: 300 })])("base64 agrees with Node's encoder and round-trips", (b) => {
  const s = toBase64(b);
  expect(s).toBe(Buffer.from(b).toString("base64"));
  expect(fromBase64(s)).toEqual(b);
});

it("rejects malformed base64", () => {
  expect(() => fromBase64("abc")).toThrow(MalformedError);
  expect(() => fromBase64("ab!d")).toThrow(MalformedError);
});

it("JSON text keeps 64-bit values exact and bytes as base64", () => {
  expect(jsonText({ a: 2n ** 64n - 1n, b: Uint8Array.from([1, 2, 3]) })).toBe('{"a":"18446744073709551615","b":"AQID"}');
  expect(toBigInt("18446744073709551615", "x")).toBe(2n ** 64n - 1n);
  expect(() => toBigInt("1e3", "x")).toThrow(MalformedError);
});

it("safe objects keep hostile keys as data", () => {
  const o = safeObject<string>();
  o["__proto__"] = "x";
  o["constructor"] = "y";
  expect(Object.keys(o)).toEqual(["__proto__", "constructor"]);
  expect(JSON.parse(jsonText(o))).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'));
  expect(({} as Record<string, unknown>).x).toBeUndefined();
});
