// `npm run version-packages`: consume the changesets.
//
// A package whose current version was never released (no `NAME@VERSION` tag,
// e.g. every package before the first publish, or a new package) is not
// bumped: its pending changesets become the changelog entry of the version it
// already has — the `initial-*` changeset first, as the entry's opening, then
// the rest as a list. So the first publish of each package is the version its
// package.json, changelog and golden vectors name (0.1.0), not a bump past it.
// Every other package goes through `changeset version` as usual.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pendingChangesets, publishedPackages, released } from "./state.mjs";

export function versionPackages(root, { lockfile = true } = {}) {
  const pkgs = publishedPackages(root);
  const unreleased = new Map(pkgs.filter((p) => !released(root, p.pkg.name, p.pkg.version)).map((p) => [p.pkg.name, p]));
  const entries = new Map();
  for (const cs of pendingChangesets(root)) {
    const keep = [];
    for (const r of cs.releases) {
      if (!unreleased.has(r.name)) {
        keep.push(r);
        continue;
      }
      const list = entries.get(r.name) ?? [];
      list.push({ id: cs.id, summary: cs.summary, initial: cs.id.startsWith("initial-") });
      entries.set(r.name, list);
    }
    if (keep.length === 0) rmSync(cs.file);
    else if (keep.length !== cs.releases.length) {
      writeFileSync(cs.file, `---\n${keep.map((r) => `"${r.name}": ${r.type}`).join("\n")}\n---\n\n${cs.summary}\n`);
    }
  }
  for (const [name, list] of entries) {
    const { dir, pkg } = unreleased.get(name);
    const opening = list.filter((e) => e.initial).map((e) => e.summary);
    const rest = list.filter((e) => !e.initial).map((e) => `- ${e.summary.replace(/\n(?!\n)/g, "\n  ")}`);
    const body = [...opening, ...(rest.length ? [`${opening.length ? "Also in this release:\n\n" : ""}${rest.join("\n")}`] : [])].join("\n\n");
    const file = join(dir, "CHANGELOG.md");
    const old = existsSync(file) ? readFileSync(file, "utf8").replace(/^# .*\n+/, "") : "";
    writeFileSync(file, `# ${name}\n\n## ${pkg.version}\n\n${body}\n${old ? `\n${old}` : ""}`);
  }
  if (pendingChangesets(root).length > 0) {
    const r = spawnSync("npx", ["changeset", "version"], { cwd: root, stdio: "inherit" });
    if (r.status !== 0) throw new Error("changeset version failed");
  }
  if (lockfile) spawnSync("npm", ["install", "--package-lock-only", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  return { folded: [...entries.keys()].sort() };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { folded } = versionPackages(process.cwd(), { lockfile: !process.argv.includes("--no-lockfile") });
  if (folded.length) console.log(`first changelog entries written for ${folded.join(", ")} (not bumped: never released)`);
}
