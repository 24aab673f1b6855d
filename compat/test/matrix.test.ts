/**
 * The compat matrix as part of `npm test`: every cell runs at the matrix seed
 * (FC_SEED, default fixed) with FC_NUM_RUNS runs (default 1,000), each cell is
 * a test, the known-incompatibilities list must be exact, and the committed
 * MATRIX.md must equal a fresh rendering (CI fails when it is stale).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cellKey, renderMarkdown } from "@vmstream/testing";
import { beforeAll, describe, expect, test } from "vitest";
import { MATRIX_MD, type MatrixRun, OUT_DIR, RENDER, type ReleaseRun, isDefaultParams, matrixCells, matrixParams, readKnown, runMatrix, runReleases, withReleases, writeMatrix } from "../src/index.js";

const params = matrixParams();
// COMPAT_ONLY="context 2→3" runs only the cells whose key contains it (then MATRIX.md is not compared).
const only = process.env.COMPAT_ONLY || undefined;
const cells = matrixCells().filter((c) => !only || cellKey(c).includes(only));
let run: MatrixRun;
let releases: ReleaseRun | null = null;

beforeAll(async () => {
  // Printed so any CI run can be replayed: FC_SEED=<seed> FC_NUM_RUNS=<runs> npm run compat
  console.log(`compat matrix: seed ${params.seed}, ${params.numRuns} runs per cell, ${cells.length} cells`);
  run = await runMatrix({ ...params, known: readKnown(), cells, only });
  if (!only) releases = await runReleases(params);
  const md = releases ? withReleases(renderMarkdown(run.matrix, RENDER), releases.glance, releases.details) : renderMarkdown(run.matrix, RENDER);
  writeMatrix(run.matrix, { markdown: join(OUT_DIR, "MATRIX.md") }, md);
  const slow = [...run.timings].sort((a, b) => b.ms - a.ms).slice(0, 5);
  console.log(`compat matrix: ${(run.ms / 1000).toFixed(1)}s; slowest: ${slow.map((t) => `${t.key} ${(t.ms / 1000).toFixed(1)}s`).join(", ")}`);
}, 300_000);

describe("matrix cells", () => {
  for (const c of cells) {
    const key = cellKey(c);
    test(key, () => {
      const cell = run.matrix.cells.find((x) => cellKey(x) === key);
      expect(cell, `${key} did not run`).toBeDefined();
      if (cell!.verdict === "fail") expect.fail(`${key}: ${cell!.reason}`);
      if (cell!.verdict === "pass") expect(cell!.runs).toBe(params.numRuns);
    });
  }
});

test.skipIf(only !== undefined)("QEMU release cells agree with schema-diff, and every real load with preflight (or has a written reason)", () => {
  expect(releases!.problems).toEqual([]);
  expect(releases!.pairs.map((p) => p.cells.length).every((n) => n > 150)).toBe(true);
});

test("known-incompatibilities.json lists exactly the failing cells", () => {
  expect(run.problems).toEqual([]);
});

test("the matrix covers every spec pair and property", () => {
  expect(new Set(run.matrix.cells.map(cellKey)).size).toBe(run.matrix.cells.length);
  expect(run.matrix.cells.length).toBe(cells.length);
});

const partial = only !== undefined ? `COMPAT_ONLY=${only} runs part of the matrix` : !isDefaultParams(params) ? "FC_SEED/FC_NUM_RUNS differ from the committed run's" : null;
if (partial) console.log(`compat matrix: not comparing compat/MATRIX.md: ${partial}`);
test.skipIf(partial !== null)("compat/MATRIX.md is up to date (npm run compat regenerates it)", () => {
  const committed = readFileSync(MATRIX_MD, "utf8");
  const fresh = releases ? withReleases(renderMarkdown(run.matrix, RENDER), releases.glance, releases.details) : renderMarkdown(run.matrix, RENDER);
  expect(committed, "compat/MATRIX.md is stale: run `npm run compat` and commit it").toBe(fresh);
});
