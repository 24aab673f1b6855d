// `npm run check-packages` (after the build): every published package packs
// cleanly. For each non-private workspace under packages/:
//   - `npm pack` lists only package.json, README, LICENSE/CHANGELOG, dist/ (no
//     tests, no tsbuildinfo) and the files its `bin` points at; a README is required;
//   - every `exports` target (types and default of each subpath, except the
//     workspace-only `@vmstream/source` condition) and every `bin` is in the tarball;
//   - publint --strict finds nothing;
//   - arethetypeswrong (the library behind @arethetypeswrong/cli, on the local
//     tarball, offline) finds no problem for ESM consumers (node16-esm, bundler):
//     the packages are ESM-only, so node10 and require() resolutions are ignored,
//     as `attw --profile esm-only` does.
// Exit 0 when clean, 1 otherwise. `--only NAME` checks one package.
// Also imported by compat/test/release.test.ts (checkPackages()).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_CONDITION = "@vmstream/source";
const ESM_RESOLUTIONS = new Set(["node16-esm", "bundler"]);

/** Published workspaces: packages/* without `private: true`. */
export function publishedPackages(root = ROOT) {
  return readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d))
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter((p) => p.pkg.private !== true)
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
}

const npm = (args, cwd) => spawnSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 << 20 });

/** Every file path an `exports` value points at, outside the workspace-only source condition. */
function exportTargets(exp, out = []) {
  if (typeof exp === "string") out.push(exp);
  else if (Array.isArray(exp)) for (const x of exp) exportTargets(x, out);
  else if (exp && typeof exp === "object") for (const [k, v] of Object.entries(exp)) if (k !== SOURCE_CONDITION) exportTargets(v, out);
  return out;
}

const norm = (p) => p.replace(/^\.\//, "");

function allowedFile(path, binDirs) {
  if (path === "package.json") return true;
  if (/^(README|LICENSE|LICENCE|CHANGELOG)(\.md|\.txt)?$/i.test(path)) return true;
  if (path.startsWith("dist/")) return !/\.test\.|\.bench\.|\.tsbuildinfo$/.test(path);
  return binDirs.some((d) => path === d || path.startsWith(`${d}/`));
}

/** Check one package; returns a list of problems (empty when clean). */
export async function checkPackage({ dir, pkg }, opts = {}) {
  const problems = [];
  const name = pkg.name;
  if (!existsSync(join(dir, "dist"))) return [`${name}: no dist/ (run \`npm run build\` first)`];

  // 1. What npm would publish.
  const tmp = mkdtempSync(join(tmpdir(), "vmstream-pack-"));
  try {
    const r = npm(["pack", "--json", "--pack-destination", tmp], dir);
    if (r.status !== 0) return [`${name}: npm pack failed: ${r.stderr.trim().split("\n").pop()}`];
    const info = JSON.parse(r.stdout)[0];
    const files = info.files.map((f) => f.path);
    const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
    const binDirs = bins.map((b) => dirname(norm(b))).filter((d) => d !== ".");
    for (const f of files) if (!allowedFile(f, binDirs)) problems.push(`${name}: the tarball should not contain ${f}`);
    if (!files.some((f) => /^README(\.md)?$/i.test(f))) problems.push(`${name}: the tarball has no README.md`);
    for (const t of exportTargets(pkg.exports ?? {})) {
      if (!files.includes(norm(t))) problems.push(`${name}: exports target ${t} is not in the tarball`);
    }
    for (const [sub, v] of Object.entries(typeof pkg.exports === "object" && pkg.exports ? pkg.exports : {})) {
      if (typeof v === "object" && v && !sub.endsWith(".json") && !("types" in v)) problems.push(`${name}: exports["${sub}"] has no types condition`);
    }
    for (const b of bins) if (!files.includes(norm(b))) problems.push(`${name}: bin ${b} is not in the tarball`);

    // 2. publint, strict (warnings count).
    const { publint } = await import("publint");
    const { formatMessage } = await import("publint/utils");
    const tarball = readFileSync(join(tmp, info.filename));
    // Lint the tarball just packed (publint would otherwise pack a second time).
    const lint = await publint({ pkgDir: "package", level: "suggestion", strict: true, pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) } });
    for (const m of lint.messages) {
      if (m.type === "suggestion") continue;
      problems.push(`${name}: publint ${m.type}: ${formatMessage(m, lint.pkg)?.replace(/\x1b\[[0-9;]*m/g, "") ?? m.code}`);
    }

    // 3. Are the types wrong? On the local tarball, without network.
    if (opts.attw !== false) {
      const core = await import("@arethetypeswrong/core");
      const analysis = await core.checkPackage(core.createPackageFromTarballData(new Uint8Array(tarball)));
      if (analysis.types === false) problems.push(`${name}: attw: the package has no types`);
      else {
        for (const p of analysis.problems) {
          if ("resolutionKind" in p && !ESM_RESOLUTIONS.has(p.resolutionKind)) continue;
          const where = "entrypoint" in p ? ` at ${p.entrypoint} (${p.resolutionKind})` : "typesFileName" in p ? ` in ${p.typesFileName}` : "";
          problems.push(`${name}: attw ${p.kind}${where}`);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return problems;
}

export async function checkPackages(opts = {}) {
  const pkgs = publishedPackages().filter((p) => !opts.only || p.pkg.name === opts.only || p.pkg.name.endsWith(`/${opts.only}`));
  const results = [];
  for (const p of pkgs) results.push({ name: p.pkg.name, problems: await checkPackage(p, opts) });
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const i = process.argv.indexOf("--only");
  const results = await checkPackages({ only: i > 0 ? process.argv[i + 1] : undefined, attw: !process.argv.includes("--no-attw") });
  let bad = 0;
  for (const r of results) {
    console.log(`${r.problems.length ? "FAIL" : "ok  "} ${r.name}`);
    for (const p of r.problems) console.log(`     ${p}`);
    bad += r.problems.length;
  }
  console.log(`${results.length} packages, ${bad} problem${bad === 1 ? "" : "s"}`);
  process.exitCode = bad ? 1 : 0;
}
