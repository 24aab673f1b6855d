/**
 * PfnSet, the carried-page set of `memory` for Xen saves: its runs and gaps
 * are those of a plain sorted list of the same pfns, whatever the order and
 * spread they are added in (chunks of 4096 pfns, far apart or adjacent).
 */
import { test } from "@fast-check/vitest";
import { propertyParams } from "@vmstream/testing";
import fc from "fast-check";
import { describe, expect } from "vitest";
import { PfnSet } from "../src/index.js";

const params = propertyParams(100);

/** Runs [first, end) of a sorted list of distinct numbers: the reference. */
function runsOf(sorted: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && last[1] === p) last[1]++;
    else out.push([p, p + 1]);
  }
  return out;
}

const pfns = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 4090, max: 4100 })),
  { maxLength: 300 },
);

describe("PfnSet", () => {
  test.prop([pfns], params)("runs, size and highest match a sorted list of the distinct pfns", (list) => {
    const s = new PfnSet();
    const seen = new Set<number>();
    for (const p of list) {
      expect(s.add(p, 0)).toBe(!seen.has(p));
      seen.add(p);
    }
    const sorted = [...seen].sort((a, b) => a - b);
    expect([...s.runs()]).toEqual(runsOf(sorted));
    expect(s.size).toBe(seen.size);
    expect(s.highest).toBe(sorted.length ? sorted[sorted.length - 1] : -1);
    for (const p of list.slice(0, 20)) expect(s.has(p)).toBe(true);
  });

  test.prop([pfns, fc.integer({ min: 0, max: 20_000 })], params)("gaps below a limit are the complement of the runs", (list, limit) => {
    const s = new PfnSet();
    for (const p of list) s.add(p, 0);
    const inSet = new Set(list);
    const missing: number[] = [];
    for (let p = 0; p < limit; p++) if (!inSet.has(p)) missing.push(p);
    expect([...s.gaps(limit)]).toEqual(runsOf(missing));
  });
});
