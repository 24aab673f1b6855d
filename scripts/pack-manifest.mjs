// `prepack`/`postpack` of every published package (run by npm in the package
// directory): the workspace resolves `@vmstream/source` to the TypeScript
// sources so tests run without a build, but src/ is not published, so the
// condition must not reach the registry. `strip` keeps the manifest as it is
// in git beside it (.package.json.prepack) and removes the condition;
// `restore` puts the original back. A stripped manifest left behind by a
// failed pack shows as a dirty tree, which `npm run release` refuses.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const SOURCE_CONDITION = "@vmstream/source";
const SAVED = ".package.json.prepack";

/** The exports map without the workspace-only condition. */
export function stripCondition(exp) {
  if (Array.isArray(exp)) return exp.map(stripCondition);
  if (exp && typeof exp === "object") {
    return Object.fromEntries(Object.entries(exp).filter(([k]) => k !== SOURCE_CONDITION).map(([k, v]) => [k, stripCondition(v)]));
  }
  return exp;
}

const action = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] ? process.argv[2] : null;
if (action === "strip") {
  // A pack that was killed before its postpack left the original in SAVED: that is the manifest.
  if (existsSync(SAVED)) renameSync(SAVED, "package.json");
  const text = readFileSync("package.json", "utf8");
  writeFileSync(SAVED, text);
  const pkg = JSON.parse(text);
  pkg.exports = stripCondition(pkg.exports);
  writeFileSync("package.json", `${JSON.stringify(pkg, null, 2)}\n`);
} else if (action === "restore") {
  if (existsSync(SAVED)) renameSync(SAVED, "package.json");
} else if (action !== null) {
  console.error("usage: pack-manifest.mjs strip|restore");
  process.exitCode = 2;
}
