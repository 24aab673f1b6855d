import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "./run.js";

const SAMPLES = join(REPO, "samples");

function streams(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? streams(p) : n.endsWith(".md") ? [] : [relative(SAMPLES, p)];
  });
}

describe("npm start (scripts/start.mjs) on the bundled samples", () => {
  it("inspects and verifies every sample, exits 0, and the samples README lists exactly those files", () => {
    const files = streams(SAMPLES).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    const r = spawnSync(process.execPath, ["scripts/start.mjs"], { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(0);
    for (const f of files) {
      // The CLI's headline and verify line for each sample.
      expect(r.stdout).toMatch(new RegExp(`\\nsamples/${f.replace(/[.]/g, "\\.")}: [a-z]+@\\d+ — `));
      expect(r.stdout).toMatch(new RegExp(`\\nsamples/${f.replace(/[.]/g, "\\.")}: [a-z]+@\\d+: valid`));
    }
    expect(r.stdout).toContain(`All ${files.length} samples decoded and verified.`);
    const readme = readFileSync(join(SAMPLES, "README.md"), "utf8");
    const listed = [...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual(files);
  });
});
