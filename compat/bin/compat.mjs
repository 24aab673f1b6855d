#!/usr/bin/env node
// `npm run compat` (after the build): run the compat matrix and write
// compat/MATRIX.md, compat/out/matrix.json and compat/out/matrix.html.
//
//   node compat/bin/compat.mjs [--only TEXT] [--json FILE] [--markdown FILE] [--html FILE] [--check]
//
// FC_SEED / FC_NUM_RUNS replay or scale a run. MATRIX.md is (re)written only at
// the default seed and run count, so the committed file always means the same
// thing; other runs write compat/out/MATRIX.md. --check writes nothing to
// MATRIX.md and fails when it differs from a fresh run. --json/--markdown/--html
// write extra copies where asked (`vmstream matrix` passes them through).
// Exit 0 when every required cell passes and the known list is exact, else 1.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    only: { type: "string" },
    json: { type: "string" },
    markdown: { type: "string" },
    html: { type: "string" },
    check: { type: "boolean" },
    quiet: { type: "boolean" },
  },
});

let compat;
try {
  compat = await import("../dist/index.js");
} catch (e) {
  process.stderr.write(`compat: not built yet (run \`npm run build\`): ${e.message}\n`);
  process.exit(2);
}
const { renderMarkdown } = await import("@vmstream/testing");
const { runMatrix, matrixParams, isDefaultParams, readKnown, writeMatrix, MATRIX_MD, OUT_DIR, RENDER } = compat;

const params = matrixParams();
const known = readKnown();
const log = (s) => {
  if (!flags.quiet) process.stderr.write(`${s}\n`);
};
log(`compat matrix: seed ${params.seed}, ${params.numRuns} runs per cell (FC_SEED / FC_NUM_RUNS to change)`);
const run = await runMatrix({
  ...params,
  known,
  only: flags.only,
  onCell: (c, ms) => log(`  ${c.ok ? "ok  " : "FAIL"} ${c.family} ${c.from}→${c.to} ${c.property}  ${c.runs} runs  ${(ms / 1000).toFixed(1)}s${c.ok ? "" : `  ${c.reason}`}`),
});

// The QEMU release sections (device cells of real -dump-vmstate pairs, real loads).
const releases = flags.only
  ? null
  : await compat.runReleases(params, (p, ms) => {
      const bad = p.cells.filter((c) => !c.ok);
      log(`  ${bad.length ? "FAIL" : "ok  "} qemu ${p.from}→${p.to}: ${p.cells.length} device cells, ${compat.releaseRuns(params)} runs each  ${(ms / 1000).toFixed(1)}s`);
      for (const c of bad) log(`       ${c.device}: ${c.reason}`);
    });
if (releases) for (const p of releases.problems) run.problems.push(p);

const full = !flags.only && isDefaultParams(params);
const plainMd = renderMarkdown(run.matrix, RENDER);
const md = releases ? compat.withReleases(plainMd, releases.glance, releases.details) : plainMd;
let stale = false;
if (flags.check) {
  let committed = "";
  try {
    committed = readFileSync(MATRIX_MD, "utf8");
  } catch {}
  if (!full) log("--check compares MATRIX.md only at the default seed and run count without --only; skipped");
  else if (committed !== md) {
    stale = true;
    log(`compat/MATRIX.md is stale: run \`npm run compat\` and commit it`);
  }
}
const written = writeMatrix(run.matrix, { markdown: flags.check ? null : full ? MATRIX_MD : join(OUT_DIR, "MATRIX.md") }, md);
const extra = writeMatrix(run.matrix, { markdown: flags.markdown ?? null, json: flags.json ?? written.json, html: flags.html ?? written.html }, md);
void extra;

const n = { pass: 0, fail: 0, "expected-fail": 0 };
for (const c of run.matrix.cells) n[c.verdict]++;
log(`${run.matrix.cells.length} cells: ${n.pass} pass, ${n.fail} fail, ${n["expected-fail"]} expected-fail in ${(run.ms / 1000).toFixed(1)}s`);
if (releases) log(`QEMU releases: ${releases.pairs.reduce((a, p) => a + p.cells.length, 0)} device cells in ${(releases.ms / 1000).toFixed(1)}s`);
if (written.markdown) log(`wrote ${written.markdown}, ${written.json}, ${written.html}`);
for (const p of run.problems) log(`problem: ${p}`);
process.exitCode = n.fail > 0 || run.problems.length > 0 || stale ? 1 : 0;
