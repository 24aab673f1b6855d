import type { Region, RegionMap } from "./regions.js";
import type { Rng } from "./prng.js";

/** How a mutant was damaged. */
export type Damage = "flip" | "truncate" | "insert" | "delete";

export interface Mutant {
  /** Index within its run: with the seed, enough to make the same bytes again. */
  index: number;
  region: Region | "anywhere";
  damage: Damage;
  /** Where the damage starts. */
  at: number;
  /** A short description: `flip bit 3 at 1234`, `truncate to 2048`, … */
  what: string;
  bytes: Uint8Array;
}

/**
 * The mix of damage: bit flips aimed at each region (most of them at headers,
 * where a loader decides what it reads next), truncations, inserted and deleted bytes.
 */
const PLAN: readonly (readonly [{ region: Region | "anywhere"; damage: Damage }, number])[] = [
  [{ region: "section-header", damage: "flip" }, 26],
  [{ region: "device-body", damage: "flip" }, 22],
  [{ region: "ram-header", damage: "flip" }, 10],
  [{ region: "ram-data", damage: "flip" }, 3],
  [{ region: "vmdesc", damage: "flip" }, 9],
  [{ region: "record-header", damage: "flip" }, 36],
  [{ region: "record-body", damage: "flip" }, 24],
  [{ region: "anywhere", damage: "flip" }, 6],
  [{ region: "anywhere", damage: "truncate" }, 10],
  [{ region: "anywhere", damage: "insert" }, 4],
  [{ region: "anywhere", damage: "delete" }, 4],
];

/** A position inside the region (weighted by each range's length), or anywhere in the stream. */
function position(r: Rng, map: RegionMap, region: Region | "anywhere", length: number): number {
  if (region === "anywhere") return r.int(length);
  const ranges = map[region]!;
  const total = ranges.reduce((s, [a, b]) => s + (b - a), 0);
  let x = r.int(total);
  for (const [a, b] of ranges) {
    if (x < b - a) return a + x;
    x -= b - a;
  }
  return ranges[ranges.length - 1]![0];
}

/** `count` mutants of `bytes`, drawn from the plan restricted to the regions this stream has. */
export function* mutants(bytes: Uint8Array, map: RegionMap, r: Rng, count: number): Generator<Mutant> {
  const plan = PLAN.filter(([p]) => p.region === "anywhere" || (map[p.region]?.some(([a, b]) => b > a) ?? false));
  for (let index = 0; index < count; index++) {
    const { region, damage } = r.weighted(plan);
    const at = position(r, map, region, bytes.length);
    switch (damage) {
      case "flip": {
        const bit = r.int(8);
        const out = bytes.slice();
        out[at]! ^= 1 << bit;
        yield { index, region, damage, at, what: `flip bit ${bit} at ${at}`, bytes: out };
        break;
      }
      case "truncate":
        yield { index, region, damage, at, what: `truncate to ${at} bytes`, bytes: bytes.slice(0, at) };
        break;
      case "insert": {
        const n = 1 + r.int(16);
        const extra = Uint8Array.from({ length: n }, () => r.int(256));
        const out = new Uint8Array(bytes.length + n);
        out.set(bytes.subarray(0, at));
        out.set(extra, at);
        out.set(bytes.subarray(at), at + n);
        yield { index, region, damage, at, what: `insert ${n} bytes at ${at}`, bytes: out };
        break;
      }
      case "delete": {
        const n = Math.min(1 + r.int(16), bytes.length - at);
        const out = new Uint8Array(bytes.length - n);
        out.set(bytes.subarray(0, at));
        out.set(bytes.subarray(at + n), at);
        yield { index, region, damage, at, what: `delete ${n} bytes at ${at}`, bytes: out };
        break;
      }
    }
  }
}
