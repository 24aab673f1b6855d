// `npm run lint`: project rules the compiler does not check.
// - browser-safe packages import no `node:` module (Node I/O lives in @vmstream/node);
// - no code is built from text (`eval`, the Function constructor);
// - every published package ships a README and lists its `files`;
// - tests live in test/, never beside the sources in src/;
// - nothing reads outside the checkout (no `../shared`: a clone stands alone);
// - every relative link in every Markdown file resolves (scripts/check-links.mjs).
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { brokenLinks } from "./check-links.mjs";

const BROWSER_SAFE = ["wire-spec", "framing", "codecs", "vmstate", "libxl", "legacy", "testing"];
const problems = [];

function* sources(dir) {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) yield* sources(p);
    else if (p.endsWith(".ts")) yield p;
  }
}

for (const pkg of readdirSync("packages")) {
  const dir = join("packages", pkg);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (!manifest.private) {
    if (!existsSync(join(dir, "README.md"))) problems.push(`${dir}: published package without README.md`);
    if (!Array.isArray(manifest.files)) problems.push(`${dir}: published package without a "files" list`);
  }
  if (existsSync(join(dir, ".package.json.prepack"))) problems.push(`${dir}: a pack did not finish: package.json is stripped; move .package.json.prepack back over it`);
  if (!existsSync(join(dir, "src"))) continue;
  for (const file of sources(join(dir, "src"))) {
    if (file.endsWith(".test.ts")) problems.push(`${file}: a test in src/ (tests live in test/)`);
    const text = readFileSync(file, "utf8");
    text.split("\n").forEach((line, i) => {
      const at = `${file}:${i + 1}`;
      if (BROWSER_SAFE.includes(pkg) && /from\s+["']node:|import\(\s*["']node:/.test(line)) {
        problems.push(`${at}: node: import in a browser-safe package (Node I/O belongs in @vmstream/node)`);
      }
      if (/\beval\s*\(|new\s+Function\s*\(/.test(line) && !/^\s*(\/\/|\*)/.test(line)) problems.push(`${at}: code built from text`);
    });
  }
}

// A clone has nothing beside it: no source, test, script or config may reach for ../shared.
function* tracked() {
  const list = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" });
  for (const f of list.split("\0")) if (/\.(ts|mjs|js|json|sh)$/.test(f) && f !== "scripts/lint.mjs" && !f.startsWith("fixtures/") && !f.includes("node_modules/")) yield f;
}
for (const file of tracked()) {
  if (!existsSync(file)) continue;
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (/\.\.\/shared\b|\/work\/shared\b/.test(line)) problems.push(`${file}:${i + 1}: reads outside the checkout (copy the file into fixtures/)`);
  });
}

problems.push(...brokenLinks());

for (const p of problems) console.log(p);
console.log(problems.length ? `lint: ${problems.length} problem(s)` : "lint: clean");
process.exitCode = problems.length ? 1 : 0;
