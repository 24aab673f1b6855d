/**
 * Run the whole matrix: discover the cells, check each property with the
 * matrix seed, and apply the known-incompatibilities list.
 */
import { type KnownIncompatibility, type Matrix, type ObservedCell, classify } from "@vmstream/testing";
import { type CellSpec, type RunParams, runCell } from "./cell.js";
import { matrixCells } from "./pairs.js";

/** The fixed default seed: a fresh run at the defaults reproduces the committed MATRIX.md. */
export const DEFAULT_SEED = 20261122;
/** Runs per cell in CI (and by default). */
export const DEFAULT_RUNS = 1000;

/** Seed and runs from FC_SEED / FC_NUM_RUNS, else the defaults. */
export function matrixParams(env: Record<string, string | undefined> = process.env): RunParams {
  const seed = env.FC_SEED !== undefined && env.FC_SEED !== "" ? Number(env.FC_SEED) : DEFAULT_SEED;
  const numRuns = env.FC_NUM_RUNS !== undefined && env.FC_NUM_RUNS !== "" ? Number(env.FC_NUM_RUNS) : DEFAULT_RUNS;
  if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, found ${env.FC_SEED}`);
  if (!Number.isSafeInteger(numRuns) || numRuns < 1) throw new Error(`FC_NUM_RUNS must be a positive integer, found ${env.FC_NUM_RUNS}`);
  return { seed, numRuns };
}

export const isDefaultParams = (p: RunParams): boolean => p.seed === DEFAULT_SEED && p.numRuns === DEFAULT_RUNS;

export interface MatrixRun {
  matrix: Matrix;
  /** New failures, stale known entries: each fails CI. */
  problems: string[];
  /** Wall time per cell (ms), for the console only (never in MATRIX.md). */
  timings: Array<{ key: string; ms: number }>;
  ms: number;
}

export interface RunOptions extends RunParams {
  known: readonly KnownIncompatibility[];
  /** Only cells whose key (`family from→to property`) contains this. */
  only?: string;
  onCell?: (c: ObservedCell, ms: number) => void;
  cells?: CellSpec[];
}

export async function runMatrix(opts: RunOptions): Promise<MatrixRun> {
  const t0 = performance.now();
  let cells = opts.cells ?? matrixCells();
  if (opts.only) cells = cells.filter((c) => `${c.family} ${c.from}→${c.to} ${c.property}`.includes(opts.only!));
  const observed: ObservedCell[] = [];
  const timings: MatrixRun["timings"] = [];
  for (const c of cells) {
    const { ms, ...o } = await runCell(c, opts);
    observed.push(o);
    timings.push({ key: `${c.family} ${c.from}→${c.to} ${c.property}`, ms });
    opts.onCell?.(o, ms);
  }
  const known = opts.only ? opts.known.filter((k) => observed.some((o) => o.family === k.family && o.from === k.from && o.to === k.to && o.property === k.property)) : opts.known;
  const { matrix, problems } = classify(observed, known);
  return { matrix, problems, timings, ms: performance.now() - t0 };
}
