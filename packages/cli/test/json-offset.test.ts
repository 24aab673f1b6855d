import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { jsonErrorOffset } from "../src/json-offset.js";

describe("jsonErrorOffset", () => {
  it("points at the first character that cannot continue a JSON document", () => {
    expect(jsonErrorOffset('{"a": [1, 2,, 3]}')).toBe(12);
    expect(jsonErrorOffset('{"a": 1')).toBe(7); // ends early: the offset is the end
    expect(jsonErrorOffset("[1] x")).toBe(4);
    expect(jsonErrorOffset('{"é": tru}')).toBe(7); // bytes, not characters: é is two, so "tru" starts at byte 7
    expect(jsonErrorOffset("")).toBe(0);
    expect(jsonErrorOffset("[".repeat(100_000))).toBe(100_000); // deep nesting: no stack overflow
  });

  // JSON.parse is the oracle: the scanner accepts exactly what it accepts.
  test.prop([fc.json()])("accepts every document JSON.stringify writes", (s) => {
    expect(jsonErrorOffset(s)).toBe(-1);
  });

  test.prop([fc.oneof(fc.string(), fc.json().map((s) => s.slice(0, -1)), fc.tuple(fc.json(), fc.nat(), fc.constantFrom(",", "]", "}", ":", '"', "\\", "x", "\u0001")).map(([s, k, c]) => s.slice(0, k % (s.length + 1)) + c + s.slice(k % (s.length + 1))))])(
    "rejects exactly what JSON.parse rejects",
    (s) => {
      let valid = true;
      try {
        JSON.parse(s);
      } catch {
        valid = false;
      }
      expect(jsonErrorOffset(s) === -1).toBe(valid);
    },
  );
});
