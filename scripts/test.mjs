// `npm test`: build every package, run every vitest project, and print the plain
// `N passed, N failed` line that CI reads (vitest's own summary is not parsed).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", NO_COLOR: "1", FORCE_COLOR: "0" };
const run = (cmd, args) => spawnSync(cmd, args, { stdio: "inherit", env });

const build = run("npx", ["turbo", "run", "build", "--output-logs=errors-only"]);
if (build.status !== 0) {
  console.log("build failed");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

// Project rules the compiler does not check (scripts/lint.mjs); a problem counts as one failure.
const lint = run("node", ["scripts/lint.mjs"]);

const report = "vitest-report.json";
rmSync(report, { force: true });
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)];
const t = run("npx", args);
if (!existsSync(report)) {
  console.log(`vitest exited with ${t.status} and wrote no report`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const r = JSON.parse(readFileSync(report, "utf8"));
// A test file that fails to load has no tests but must count as a failure.
const brokenFiles = r.testResults.filter((f) => f.status === "failed" && f.assertionResults.length === 0).length;
const failed = r.numFailedTests + brokenFiles + (lint.status === 0 ? 0 : 1);
const skipped = r.numPendingTests + r.numTodoTests;

// Time per package: the sum of its test files' durations (files run in parallel, so the
// sum is the work a package costs, not wall time), slowest first, with its slowest file.
const perPackage = new Map();
for (const f of r.testResults) {
  const rel = f.name.startsWith(process.cwd()) ? f.name.slice(process.cwd().length + 1) : f.name;
  const pkg = /^(packages\/[^/]+|compat)\//.exec(rel)?.[1] ?? "other";
  const ms = Math.max(0, (f.endTime ?? 0) - (f.startTime ?? 0));
  const e = perPackage.get(pkg) ?? { ms: 0, files: 0, slowest: ["", 0] };
  e.ms += ms;
  e.files += 1;
  if (ms > e.slowest[1]) e.slowest = [rel.slice(pkg.length + 1), ms];
  perPackage.set(pkg, e);
}
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log("\ntest time per package (sum over its files; slowest file):");
for (const [pkg, e] of [...perPackage].sort((a, b) => b[1].ms - a[1].ms)) {
  console.log(`  ${pkg.padEnd(20)} ${secs(e.ms).padStart(9)}  ${String(e.files).padStart(3)} files  ${e.slowest[0]} ${secs(e.slowest[1])}`);
}
console.log(`  wall time ${secs(Date.now() - r.startTime)}\n`);
console.log(`${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || t.status !== 0 ? 1 : 0);
