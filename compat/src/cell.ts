/**
 * Running one cell: a fast-check property checked with the matrix seed and run
 * count. A failure is summarised with its counterexample and the fast-check
 * replay path, so `FC_SEED=<seed>` plus the path reproduces it exactly.
 */
import fc from "fast-check";
import type { MatrixProperty, ObservedCell } from "@vmstream/testing";
import { NotImplemented, describeError } from "./codec-io.js";

export type AnyProperty = fc.IRawProperty<unknown, boolean>;

/**
 * A property plus a verdict over the whole run, for pair-level claims ("the
 * static checker calls this pair incompatible, so some value must fail to
 * load") that no single value can decide. `after` returns a failure reason or null.
 */
export interface AggregateProperty {
  property: AnyProperty;
  after(): string | null;
}

/** A cell to run: its coordinates and a builder (which may throw NotImplemented). */
export interface CellSpec {
  family: string;
  from: string;
  to: string;
  property: MatrixProperty;
  build(): AnyProperty | AggregateProperty;
}

export interface RunParams {
  seed: number;
  numRuns: number;
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export async function runCell(c: CellSpec, p: RunParams): Promise<ObservedCell & { ms: number }> {
  const base = { family: c.family, from: c.from, to: c.to, property: c.property, seed: p.seed };
  const t0 = performance.now();
  let prop: AnyProperty;
  let after: (() => string | null) | null = null;
  try {
    const b = c.build();
    if ("after" in b) {
      prop = b.property;
      after = b.after;
    } else prop = b;
  } catch (e) {
    const reason = e instanceof NotImplemented ? e.message : `cannot build the property: ${describeError(e)}`;
    return { ...base, ok: false, runs: 0, reason, ms: 0 };
  }
  const d = await fc.check(prop, { seed: p.seed, numRuns: p.numRuns, endOnFailure: true });
  const ms = performance.now() - t0;
  if (!d.failed) {
    const why = after?.() ?? null;
    if (why) return { ...base, ok: false, runs: d.numRuns, reason: `${clip(why, 400)} [over all ${d.numRuns} runs at seed ${p.seed}]`, ms };
    return { ...base, ok: true, runs: d.numRuns, reason: "", ms };
  }
  const err = d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance);
  const ce = d.counterexample ? clip(fc.stringify(d.counterexample), 240) : "none";
  const reason = `${clip(err.split("\n")[0] ?? err, 400)} [counterexample ${ce}; replay: seed ${p.seed}, path "${d.counterexamplePath}"]`;
  return { ...base, ok: false, runs: d.numRuns, reason, ms };
}
