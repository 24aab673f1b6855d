import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { formatViolations, fuzzEncode, fuzzOnce } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { codecs } from "@vmstream/codecs/all";
import { REPO } from "./run.js";

/*
 * Replays every committed fuzz regression (packages/testing/regressions):
 * streams through every codec operation, documents through encode. Cases in
 * known-failures.json are open faults in another package: they run as
 * it.fails with the reason, so fixing the fault turns this red until the entry
 * is removed.
 */
const REG = join(REPO, "packages/testing/regressions");
const known: Record<string, { op: string; problem: string; reason: string }> = existsSync(join(REG, "known-failures.json"))
  ? JSON.parse(readFileSync(join(REG, "known-failures.json"), "utf8"))
  : {};

const cases = existsSync(REG)
  ? readdirSync(REG, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) =>
        readdirSync(join(REG, d.name))
          .filter((n) => /\.(bin|json)$/.test(n))
          .sort()
          .map((n) => ({ family: d.name, rel: `${d.name}/${n}` })),
      )
  : [];

describe("fuzz regressions", () => {
  it("every known failure names a committed case", () => {
    for (const rel of Object.keys(known)) expect(existsSync(join(REG, rel)), rel).toBe(true);
  });

  for (const { family, rel } of cases) {
    const entry = known[rel];
    const title = entry ? `${rel} (open: ${entry.reason})` : rel;
    (entry ? it.fails : it)(title, async () => {
      const codec = codecs.find((c) => c.family === family);
      expect(codec, `no ${family} codec`).toBeDefined();
      const path = join(REG, rel);
      const violations = rel.endsWith(".json")
        ? await fuzzEncode(codec!, JSON.parse(readFileSync(path, "utf8")))
        : (await fuzzOnce(codec!, new Uint8Array(readFileSync(path)))).violations;
      expect(violations, formatViolations(violations)).toEqual([]);
    });
  }
});
