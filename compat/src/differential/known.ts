import { readFileSync } from "node:fs";

/**
 * A disagreement with the real loader that is understood: which mutants it
 * covers (every given field must match) and why vmstream answers differently.
 * The list is compat/differential-known.json; docs/security.md explains each.
 */
export interface KnownDisagreement {
  family?: string;
  release?: string;
  region?: string;
  damage?: string;
  /** A regular expression on vmstream's message. */
  ours?: string;
  /** A regular expression on the real loader's message. */
  peer?: string;
  /** Which way: vmstream refuses what the loader loads, or loads what it refuses. */
  direction?: "false-reject" | "false-accept";
  reason: string;
}

export function readKnownDisagreements(path: string): KnownDisagreement[] {
  return JSON.parse(readFileSync(path, "utf8")) as KnownDisagreement[];
}

export interface Row {
  family: string;
  release: string;
  region: string;
  damage: string;
  ours: { verdict: string; message: string };
  peer: { verdict: string; message: string };
}

/** The first known entry that explains this row's disagreement, if any. */
export function explain(row: Row, known: readonly KnownDisagreement[]): KnownDisagreement | undefined {
  const direction = row.ours.verdict === "refused" ? "false-reject" : "false-accept";
  return known.find(
    (k) =>
      (k.family === undefined || k.family === row.family) &&
      (k.release === undefined || k.release === row.release) &&
      (k.region === undefined || k.region === row.region) &&
      (k.damage === undefined || k.damage === row.damage) &&
      (k.direction === undefined || k.direction === direction) &&
      (k.ours === undefined || new RegExp(k.ours).test(row.ours.message)) &&
      (k.peer === undefined || new RegExp(k.peer).test(row.peer.message)),
  );
}
