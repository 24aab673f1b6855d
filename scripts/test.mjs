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
console.log(`${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || t.status !== 0 ? 1 : 0);
