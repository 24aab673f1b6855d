/**
 * The release flow, checked on every `npm test`: changesets are configured as
 * the release managers expect and `changeset status` accepts the branch, and
 * every published package packs cleanly (scripts/check-packages.mjs: tarball
 * contents, exports and types resolve, publint, arethetypeswrong).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { interopRequired } from "@vmstream/testing";
import { describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface PackageCheck {
  publishedPackages(): Array<{ dir: string; pkg: { name: string; private?: boolean } }>;
  checkPackage(p: { dir: string; pkg: unknown }, opts?: { attw?: boolean }): Promise<string[]>;
  checkPackages(opts?: { attw?: boolean }): Promise<Array<{ name: string; problems: string[] }>>;
}
const checks = (await import(join(ROOT, "scripts/check-packages.mjs"))) as PackageCheck;

describe("changesets", () => {
  const config = JSON.parse(readFileSync(join(ROOT, ".changeset/config.json"), "utf8")) as {
    fixed: string[][];
    ignore: string[];
    baseBranch: string;
    updateInternalDependencies: string;
  };

  test("every package is versioned on its own (docs/contributing/releasing.md); compat is ignored", () => {
    expect(config.fixed).toEqual([]);
    // A patch of a dependency stays inside its dependents' caret ranges: they are not released for it.
    expect(config.updateInternalDependencies).toBe("minor");
    expect(config.ignore).toEqual(["@vmstream/compat"]);
    const compat = JSON.parse(readFileSync(join(ROOT, "compat/package.json"), "utf8")) as { private?: boolean };
    expect(compat.private).toBe(true);
  });

  test("`changeset status` exits 0", () => {
    const r = spawnSync("npx", ["changeset", "status"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
    expect(r.status, `changeset status failed:\n${r.stdout}\n${r.stderr}`).toBe(0);
  });
});

const built = checks.publishedPackages().every((p) => existsSync(join(p.dir, "dist")));
if (!built && !interopRequired()) console.log("package checks skipped: run `npm run build` first (npm test does)");

describe("published packages", () => {
  test.skipIf(!built && !interopRequired())(
    "every published package packs cleanly (npm run check-packages)",
    async () => {
      const results = await checks.checkPackages();
      expect(results.length).toBeGreaterThan(0);
      expect(results.flatMap((r) => r.problems)).toEqual([]);
    },
    600_000,
  );

  test("the check catches a package that ships its sources and points exports at nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vmstream-badpkg-"));
    try {
      mkdirSync(join(dir, "dist"));
      mkdirSync(join(dir, "src"));
      writeFileSync(join(dir, "dist/index.js"), "export const x = 1;\n");
      writeFileSync(join(dir, "dist/index.test.js"), "export {};\n");
      writeFileSync(join(dir, "src/index.ts"), "export const x = 1;\n");
      const pkg = {
        name: "@vmstream/bad",
        version: "0.0.1",
        type: "module",
        license: "MIT",
        files: ["dist", "src"],
        exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
      };
      writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
      const problems = await checks.checkPackage({ dir, pkg });
      expect(problems).toContain("@vmstream/bad: the tarball should not contain src/index.ts");
      expect(problems).toContain("@vmstream/bad: the tarball should not contain dist/index.test.js");
      expect(problems).toContain("@vmstream/bad: exports target ./dist/index.d.ts is not in the tarball");
      expect(problems).toContain("@vmstream/bad: the tarball has no README.md");
      expect(problems.filter((p) => p.startsWith("@vmstream/bad: publint error")).join("\n")).toMatch(/index\.d\.ts/);
      expect(problems.some((p) => p.startsWith("@vmstream/bad: attw"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
