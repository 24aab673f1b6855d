/**
 * The release sections as one run: every pair's cells, the real loads, and
 * the Markdown that MATRIX.md carries. Runs per device cell: a tenth of the
 * matrix's (100 at the default 1,000), never fewer than 100.
 */
import type { RunParams } from "../cell.js";
import { RELEASE_PAIRS, type PairRun, runReleasePair } from "./cells.js";
import { type QemuCheckerView, type RealLoads, qemuCheckerView, readRealLoads, realDeviceSet, releaseProblems, renderGlance, renderReleaseDetails } from "./render.js";

export interface ReleaseRun {
  pairs: PairRun[];
  real: RealLoads | null;
  glance: string;
  details: string;
  problems: string[];
  ms: number;
}

export const releaseRuns = (p: RunParams): number => Math.max(100, Math.round(p.numRuns / 10));

export async function runReleases(p: RunParams, onPair?: (r: PairRun, ms: number) => void): Promise<ReleaseRun> {
  const t0 = performance.now();
  const params = { seed: p.seed, numRuns: releaseRuns(p) };
  const pairs: PairRun[] = [];
  for (const [from, to] of RELEASE_PAIRS) {
    const t = performance.now();
    const r = runReleasePair(from, to, params);
    pairs.push(r);
    onPair?.(r, performance.now() - t);
  }
  const real = readRealLoads();
  const devices = await realDeviceSet();
  const views = new Map<string, QemuCheckerView>();
  for (const [from, to] of RELEASE_PAIRS) views.set(`${from}|${to}`, qemuCheckerView(from, to, devices, real));
  return { pairs, real, glance: renderGlance(pairs, real, views), details: renderReleaseDetails(pairs, real), problems: releaseProblems(pairs, real), ms: performance.now() - t0 };
}
