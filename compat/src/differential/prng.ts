/**
 * A small seeded generator (mulberry32): the same seed gives the same mutants
 * on every machine, so a disagreement can be replayed from its seed and index.
 */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One of the entries, chosen by weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    weighted(entries) {
      const total = entries.reduce((s, [, w]) => s + w, 0);
      let x = next() * total;
      for (const [v, w] of entries) if ((x -= w) < 0) return v;
      return entries[entries.length - 1]![0];
    },
  };
}
