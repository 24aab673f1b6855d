// `npm run release [-- --dry-run]`: publish what was versioned.
// Refuses while the working tree is dirty or changesets are not consumed
// (`npm run version-packages`, then commit). Prints exactly which packages
// and versions go out: those whose `NAME@VERSION` is not tagged as released.
// Then builds and runs `changeset publish` (npm publish of each, which tags it).
import { spawnSync } from "node:child_process";
import { git, pendingChangesets, publishedPackages, released } from "./state.mjs";

export function releasePlan(root) {
  const refusals = [];
  const dirty = git(root, ["status", "--porcelain"]).trim();
  if (dirty) refusals.push(`the working tree is not clean:\n${dirty.split("\n").map((l) => `    ${l}`).join("\n")}`);
  const pending = pendingChangesets(root);
  if (pending.length) refusals.push(`${pending.length} changeset(s) not consumed (${pending.map((c) => c.id).join(", ")}): run \`npm run version-packages\` and commit`);
  const out = publishedPackages(root)
    .filter((p) => !released(root, p.pkg.name, p.pkg.version))
    .map((p) => `${p.pkg.name}@${p.pkg.version}`);
  return { refusals, out };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const dry = process.argv.includes("--dry-run");
  const root = process.cwd();
  const { refusals, out } = releasePlan(root);
  console.log(out.length ? `${dry ? "would publish" : "publishing"}:\n${out.map((p) => `  ${p}`).join("\n")}` : "nothing to publish: every package version is tagged as released");
  if (refusals.length) {
    for (const r of refusals) console.error(`release refused: ${r}`);
    process.exit(1);
  }
  if (dry || out.length === 0) process.exit(0);
  const step = (cmd, args) => {
    const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  };
  step("npm", ["run", "build"]);
  step("npx", ["changeset", "publish"]);
  console.log("published; push the release tags with `git push --follow-tags`");
}
