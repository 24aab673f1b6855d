import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { REPO } from "./run.js";

const { SAMPLES } = (await import(pathToFileURL(join(REPO, "scripts/samples.mjs")).href)) as { SAMPLES: string[] };

describe("npm start (scripts/start.mjs) on the sample streams", () => {
  it("inspects and verifies every sample, exits 0, and fixtures/README.md lists exactly those files as samples", () => {
    expect(SAMPLES.length).toBeGreaterThanOrEqual(3);
    const r = spawnSync(process.execPath, ["scripts/start.mjs"], { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(r.status, r.stderr).toBe(0);
    for (const f of SAMPLES) {
      // The CLI's headline and verify line for each sample.
      const name = f.replace(/[.]/g, "\\.");
      expect(r.stdout).toMatch(new RegExp(`\\n${name}: [a-z]+@\\d+ — `));
      expect(r.stdout).toMatch(new RegExp(`\\n${name}: [a-z]+@\\d+: valid`));
    }
    expect(r.stdout).toContain(`All ${SAMPLES.length} samples decoded and verified.`);
    const readme = readFileSync(join(REPO, "fixtures/README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Samples"));
    const listed = [...section.matchAll(/^\| `(fixtures\/[^`]+)` \|/gm)].map((m) => m[1]).sort();
    expect(listed).toEqual([...SAMPLES].sort());
  });
});
