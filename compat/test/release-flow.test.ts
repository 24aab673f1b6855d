/**
 * The release flow, run on a throwaway copy of the checkout (its tracked
 * files, in a fresh git repository): consuming the changesets before the first
 * publish gives every published package 0.1.0 — the version the golden
 * vectors freeze — with a changelog whose entry opens with the package's
 * initial-release text; the release dry run then lists exactly those
 * versions. After a release (tags), a patch changeset for one package moves
 * that package alone, and internal dependencies keep their caret ranges.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const copy = mkdtempSync(join(tmpdir(), "vmstream-release-"));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { cwd: copy, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
};
const git = (...args: string[]) => {
  const r = sh("git", ["-c", "user.name=release-test", "-c", "user.email=release-test@invalid", ...args]);
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.out}`);
  return r.out;
};
const manifest = (dir: string) => JSON.parse(readFileSync(join(copy, "packages", dir, "package.json"), "utf8")) as {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
};
const published = () =>
  readdirSync(join(copy, "packages"))
    .filter((d) => existsSync(join(copy, "packages", d, "package.json")))
    .filter((d) => manifest(d).private !== true);

// The tracked files (with the working tree's content), without history, and the checkout's node_modules.
{
  const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" }).stdout.split("\0");
  for (const f of files) {
    if (!f || f.startsWith("fixtures/") || !existsSync(join(ROOT, f))) continue;
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    cpSync(join(ROOT, f), join(copy, f));
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"));
  git("init", "-q");
  git("add", "-A");
  git("commit", "-qm", "copy");
}

// --no-lockfile: the copy shares the checkout's node_modules, and the test stays offline.
const versionPackages = () => sh(process.execPath, [join(copy, "scripts/release/version.mjs"), "--no-lockfile"]);
const releaseDryRun = () => sh(process.execPath, [join(copy, "scripts/release/release.mjs"), "--dry-run"]);

describe("release flow (throwaway copy)", () => {
  test("before versioning, the release refuses: changesets are not consumed", () => {
    const r = releaseDryRun();
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/changeset\(s\) not consumed/);
  });

  test("the first versioning gives every published package 0.1.0, caret ranges and an honest changelog", () => {
    const r = versionPackages();
    expect(r.status, r.out).toBe(0);
    expect(readdirSync(join(copy, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md")).toEqual([]);
    for (const d of published()) {
      const m = manifest(d);
      expect(m.version, m.name).toBe("0.1.0");
      for (const [dep, range] of Object.entries(m.dependencies ?? {})) if (dep.startsWith("@vmstream/")) expect(range, `${m.name} → ${dep}`).toBe("^0.1.0");
      const log = readFileSync(join(copy, "packages", d, "CHANGELOG.md"), "utf8");
      // A package's first changelog entry opens with its .changeset/initial-<name>.md (docs/contributing/releasing.md).
      expect(log.startsWith(`# ${m.name}\n\n## 0.1.0\n\nInitial release.`), `${m.name} CHANGELOG.md (is there a .changeset/initial-${d}.md starting "Initial release."?):\n${log.slice(0, 300)}`).toBe(true);
      expect(log).not.toMatch(/## 0\.[2-9]|## 0\.1\.[1-9]/);
    }
    const vectors = JSON.parse(readFileSync(join(copy, "packages/wire-spec/vectors/manifest.json"), "utf8")) as unknown;
    expect(JSON.stringify(vectors)).toMatch(/"frozen":\s*"0\.1\.0"/);
  });

  test("a dirty tree is refused; once committed, the dry run lists every package at 0.1.0", () => {
    expect(releaseDryRun().out).toMatch(/working tree is not clean/);
    git("add", "-A");
    git("commit", "-qm", "version packages");
    const r = releaseDryRun();
    expect(r.status, r.out).toBe(0);
    const listed = r.out.split("\n").filter((l) => l.startsWith("  @vmstream/")).map((l) => l.trim()).sort();
    expect(listed).toEqual(published().map((d) => `${manifest(d).name}@0.1.0`).sort());
  });

  test("after the release, a patch to framing releases framing alone", () => {
    for (const d of published()) git("tag", `${manifest(d).name}@0.1.0`);
    expect(releaseDryRun().out).toMatch(/nothing to publish/);
    writeFileSync(join(copy, ".changeset/framing-fix.md"), '---\n"@vmstream/framing": patch\n---\n\nA fix in framing.\n');
    const r = versionPackages();
    expect(r.status, r.out).toBe(0);
    for (const d of published()) {
      const m = manifest(d);
      expect(m.version, m.name).toBe(m.name === "@vmstream/framing" ? "0.1.1" : "0.1.0");
      for (const [dep, range] of Object.entries(m.dependencies ?? {})) if (dep.startsWith("@vmstream/")) expect(range, `${m.name} → ${dep}`).toBe("^0.1.0");
    }
    const log = readFileSync(join(copy, "packages/framing/CHANGELOG.md"), "utf8");
    expect(log).toMatch(/^# @vmstream\/framing\n\n## 0\.1\.1\n[\s\S]*A fix in framing\.[\s\S]*## 0\.1\.0\n/);
    git("add", "-A");
    git("commit", "-qm", "version framing");
    const plan = releaseDryRun();
    expect(plan.out.split("\n").filter((l) => l.startsWith("  @vmstream/")).map((l) => l.trim())).toEqual(["@vmstream/framing@0.1.1"]);
  });
});
