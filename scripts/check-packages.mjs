// `npm run check-packages` (after the build): every published package is one a
// consumer can trust. For each non-private workspace under packages/, on the
// tarball `npm pack` makes (prepack strips the workspace-only condition):
//   - contents: package.json, README, LICENSE, CHANGELOG, dist/ (no tests, no
//     tsbuildinfo, no declaration maps), what `bin` points at, and the folders
//     the package declares as data (wire-spec's golden vectors); nothing else;
//   - manifest: MIT licence, repository (with its directory), homepage and bugs,
//     `type: module`, `engines.node`, no `@vmstream/source` condition, every
//     `exports` target shipped with a `types` condition, a `bin` npm accepts as
//     written (`npm publish --dry-run` corrects nothing);
//   - README: says the package is ESM-only, and has no relative links (they are
//     dead on the registry page);
//   - source maps carry their sources (`sourcesContent`), since src/ is not shipped;
//   - dependencies: every package dist/ imports is declared, every declared
//     runtime dependency is imported, internal ones by a caret range on the
//     workspace version;
//   - publint --strict finds nothing;
//   - attw's analysis of the tarball (`attw pkg.tgz`, no profile) reports only
//     what an ESM-only package must: no node10 resolution, and CommonJS
//     resolving to ESM under node16 (Node >= 20.19 `require()`s it); the ESM
//     resolutions (node16-esm, bundler) are clean.
// Exit 0 when clean, 1 otherwise. `--only NAME` checks one package.
// Also imported by compat/test/release.test.ts (checkPackages()).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SOURCE_CONDITION } from "./pack-manifest.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const REPOSITORY = "https://github.com/vmstream/vmstream";
/** What attw may say about an ESM-only package, per resolution kind; anything else is a problem. */
const ESM_ONLY_EXPECTED = { node10: new Set(["NoResolution"]), "node16-cjs": new Set(["CJSResolvesToESM"]) };
/** Folders a package ships as data besides dist/ (they are part of its documented contents). */
const DATA_DIRS = { "@vmstream/wire-spec": ["vectors"] };

/** Published workspaces: packages/* without `private: true`. */
export function publishedPackages(root = ROOT) {
  return readdirSync(join(root, "packages"))
    .map((d) => join(root, "packages", d))
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) }))
    .filter((p) => p.pkg.private !== true)
    .sort((a, b) => a.pkg.name.localeCompare(b.pkg.name));
}

const run = (cmd, args, cwd) => spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }, maxBuffer: 64 << 20 });

/** Every file path an `exports` value points at. */
function exportTargets(exp, out = []) {
  if (typeof exp === "string") out.push(exp);
  else if (Array.isArray(exp)) for (const x of exp) exportTargets(x, out);
  else if (exp && typeof exp === "object") for (const v of Object.values(exp)) exportTargets(v, out);
  return out;
}
function hasCondition(exp, name) {
  if (Array.isArray(exp)) return exp.some((x) => hasCondition(x, name));
  if (exp && typeof exp === "object") return Object.entries(exp).some(([k, v]) => k === name || hasCondition(v, name));
  return false;
}

const norm = (p) => p.replace(/^\.\//, "");

function allowedFile(path, extraDirs) {
  if (path === "package.json") return true;
  if (/^(README|LICENSE|CHANGELOG)(\.md|\.txt)?$/i.test(path)) return true;
  if (path.startsWith("dist/")) return !/\.test\.|\.bench\.|\.tsbuildinfo$|\.d\.ts\.map$/.test(path);
  return extraDirs.some((d) => path === d || path.startsWith(`${d}/`));
}

/** Relative links in markdown (`[x](path)`, not http(s), mailto or #anchor). */
export function relativeLinks(markdown) {
  const out = [];
  for (const m of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1];
    if (!/^(https?:|mailto:|#)/.test(target)) out.push(target);
  }
  return out;
}

/** Bare module specifiers a built file imports (static, dynamic and re-exports). */
function importedPackages(code) {
  const out = new Set();
  const specs = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gm), // import … from "x", export … from "x"
    ...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm), // import "x"
    ...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g), // import("x")
  ];
  for (const m of specs) {
    if (/^[./]/.test(m[1])) continue;
    const spec = m[1];
    if (spec.startsWith("node:")) continue;
    out.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
  }
  return out;
}

/** Unpack a tarball into a fresh folder (tar is on every CI image). */
function unpack(tgz, into) {
  mkdirSync(into, { recursive: true });
  const r = run("tar", ["-xzf", tgz, "-C", into]);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  return join(into, "package");
}

function* walk(dir) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** Check one package; returns a list of problems (empty when clean). */
export async function checkPackage({ dir, pkg }, opts = {}) {
  const problems = [];
  const name = pkg.name;
  const say = (m) => problems.push(`${name}: ${m}`);
  if (!existsSync(join(dir, "dist"))) return [`${name}: no dist/ (run \`npm run build\` first)`];

  const tmp = mkdtempSync(join(tmpdir(), "vmstream-pack-"));
  try {
    // 1. What npm would publish.
    const r = run("npm", ["pack", "--json", "--pack-destination", tmp], dir);
    if (r.status !== 0) return [`${name}: npm pack failed: ${r.stderr.trim().split("\n").pop()}`];
    const info = JSON.parse(r.stdout)[0];
    const tgz = join(tmp, info.filename);
    const files = info.files.map((f) => f.path);
    const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
    const binDirs = bins.map((b) => dirname(norm(b))).filter((d) => d !== ".");
    const dataDirs = DATA_DIRS[name] ?? [];
    for (const f of files) if (!allowedFile(f, [...binDirs, ...dataDirs])) say(`the tarball should not contain ${f}`);
    if (!files.some((f) => /^README(\.md)?$/i.test(f))) say("the tarball has no README.md");
    if (!files.some((f) => /^LICENSE(\.md|\.txt)?$/i.test(f))) say("the tarball has no LICENSE");
    for (const d of dataDirs) if (!files.some((f) => f.startsWith(`${d}/`))) say(`the tarball has no ${d}/ (the README says it ships)`);

    const unpacked = unpack(tgz, join(tmp, "x"));
    const packed = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));

    // 2. The manifest a consumer gets.
    if (packed.license !== "MIT") say(`license is ${packed.license}, not MIT`);
    if (packed.type !== "module") say('"type" is not "module" (the packages are ESM-only)');
    if (!packed.engines?.node) say("no engines.node");
    const rel = relative(ROOT, dir).split("\\").join("/");
    if (packed.repository?.url !== `git+${REPOSITORY}.git` || packed.repository?.directory !== rel) {
      say(`repository should be { url: "git+${REPOSITORY}.git", directory: "${rel}" }`);
    }
    if (!String(packed.homepage ?? "").startsWith(REPOSITORY)) say(`homepage should point into ${REPOSITORY}`);
    if (packed.bugs?.url !== `${REPOSITORY}/issues`) say(`bugs.url should be ${REPOSITORY}/issues`);
    if (hasCondition(packed.exports, SOURCE_CONDITION)) say(`the published exports still carry the ${SOURCE_CONDITION} condition`);
    for (const t of exportTargets(packed.exports ?? {})) if (!files.includes(norm(t))) say(`exports target ${t} is not in the tarball`);
    for (const [sub, v] of Object.entries(typeof packed.exports === "object" && packed.exports ? packed.exports : {})) {
      if (typeof v === "object" && v && !sub.endsWith(".json") && !("types" in v)) say(`exports["${sub}"] has no types condition`);
    }
    for (const b of bins) {
      if (!files.includes(norm(b))) say(`bin ${b} is not in the tarball`);
      if (b !== norm(b)) say(`bin ${b}: npm rewrites a leading "./" on publish; write ${norm(b)}`);
    }

    // 3. The README as the registry shows it.
    const readme = existsSync(join(unpacked, "README.md")) ? readFileSync(join(unpacked, "README.md"), "utf8") : "";
    if (readme && !/ESM-only/.test(readme)) say("the README does not say the package is ESM-only");
    for (const l of relativeLinks(readme)) say(`README link ${l} is relative (dead on the registry page); link ${REPOSITORY}/blob/main/…`);

    // 4. Source maps point at sources that are not shipped: they must carry them.
    for (const f of walk(join(unpacked, "dist"))) {
      if (!f.endsWith(".js.map")) continue;
      const map = JSON.parse(readFileSync(f, "utf8"));
      const n = map.sources?.length ?? 0;
      if (!Array.isArray(map.sourcesContent) || map.sourcesContent.length !== n || map.sourcesContent.some((c) => typeof c !== "string")) {
        say(`${relative(unpacked, f)} has no sourcesContent (its sources are not in the tarball)`);
        break;
      }
    }

    // 4b. Nothing stale: every module tsc built has its source (tsc -b never deletes the output of a removed file).
    // dist/bundle/ is the CLI's rolldown output, rebuilt from an emptied folder every time.
    for (const f of files) {
      const m = /^dist\/(?!bundle\/)(.+)\.js$/.exec(f);
      if (m && !existsSync(join(dir, "src", `${m[1]}.ts`))) say(`${f} is stale: src/${m[1]}.ts does not exist (rebuild from a clean dist/)`);
    }

    // 5. Dependencies: declared = imported (by the code or by its declarations, which consumers type-check).
    const declared = { ...packed.dependencies, ...packed.peerDependencies };
    const imported = new Set();
    for (const f of walk(unpacked)) if (/\.(js|mjs|d\.ts)$/.test(f)) for (const s of importedPackages(readFileSync(f, "utf8"))) imported.add(s);
    for (const s of imported) if (!(s in declared) && s !== name) say(`imports ${s} without declaring it`);
    for (const d of Object.keys(packed.dependencies ?? {})) if (!imported.has(d)) say(`declares ${d} but never imports it`);
    const versions = Object.fromEntries(publishedPackages().map((p) => [p.pkg.name, p.pkg.version]));
    for (const [d, range] of Object.entries(declared)) {
      if (d in versions && range !== `^${versions[d]}`) say(`depends on ${d}@${range}: internal dependencies use ^${versions[d]} (a patch to one must not force a release of all)`);
    }

    // 6. npm must take the manifest as written: `npm publish` rewrites a `bin` it finds
    // invalid and says so ("script name … was invalid and removed").
    if (bins.length && opts.publishDryRun !== false) {
      const p = run("npm", ["publish", "--dry-run", "--ignore-scripts", unpacked], tmp);
      for (const line of p.stderr.split("\n")) if (/corrected|invalid|removed/.test(line)) say(`npm publish --dry-run: ${line.replace(/^npm warn publish\s*/, "")}`);
    }

    // 7. publint, strict (warnings count).
    const { publint } = await import("publint");
    const { formatMessage } = await import("publint/utils");
    const tarball = readFileSync(tgz);
    const lint = await publint({ pkgDir: "package", level: "suggestion", strict: true, pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) } });
    for (const m of lint.messages) {
      if (m.type === "suggestion") continue;
      say(`publint ${m.type}: ${formatMessage(m, lint.pkg)?.replace(/\x1b\[[0-9;]*m/g, "") ?? m.code}`);
    }

    // 8. Are the types wrong? attw's analysis of the tarball (what `attw pkg.tgz --format json`
    // prints as `analysis`, no profile), offline, in process: one TypeScript load for all packages.
    if (opts.attw !== false) {
      const core = await import("@arethetypeswrong/core");
      const analysis = await core.checkPackage(core.createPackageFromTarballData(new Uint8Array(tarball)));
      if (analysis.types === false) say("attw: the package has no types");
      for (const p of analysis.problems ?? []) {
        if ("resolutionKind" in p && ESM_ONLY_EXPECTED[p.resolutionKind]?.has(p.kind)) continue;
        const where = "entrypoint" in p ? ` at ${p.entrypoint} (${p.resolutionKind})` : "typesFileName" in p ? ` in ${p.typesFileName}` : "";
        say(`attw ${p.kind}${where}`);
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
