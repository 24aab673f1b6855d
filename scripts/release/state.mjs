// What the release scripts need to know about the checkout: the published
// packages, the changesets not yet consumed, and which package versions were
// already released (changeset publish tags each one `NAME@VERSION`).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

export function git(root, args) {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Published workspaces (packages/* without `private: true`), by name. */
export function publishedPackages(root) {
  return readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d))
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter((p) => p.pkg.private !== true)
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
}

/**
 * The changesets in .changeset/ (every .md but README.md): id, the releases
 * its frontmatter names, and its summary. `initial-*` files come first: they
 * open a package's first changelog entry.
 */
export function pendingChangesets(root) {
  const dir = join(root, ".changeset");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .sort((a, b) => Number(b.startsWith("initial-")) - Number(a.startsWith("initial-")) || a.localeCompare(b))
    .map((file) => {
      const text = readFileSync(join(dir, file), "utf8");
      const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
      if (!m) throw new Error(`.changeset/${file}: no frontmatter`);
      const releases = m[1]
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
          const r = /^\s*"?([^":]+)"?\s*:\s*(major|minor|patch)\s*$/.exec(l);
          if (!r) throw new Error(`.changeset/${file}: cannot read "${l}"`);
          return { name: r[1], type: r[2] };
        });
      return { id: file.replace(/\.md$/, ""), file: join(dir, file), releases, summary: m[2].trim() };
    });
}

/** Whether `name@version` was released (tagged by changeset publish). */
export function released(root, name, version) {
  return git(root, ["tag", "--list", `${name}@${version}`]).trim() !== "";
}
