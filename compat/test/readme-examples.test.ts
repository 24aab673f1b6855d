/**
 * Every published package's README examples run as written, against the
 * built packages, and print no warning. A fenced `ts`/`js` block that imports
 * from `@vmstream/…` is an example; the files it opens are named by an HTML
 * comment just above it (`<!-- example-inputs: name=fixtures/… -->`, invisible
 * on the registry page) and copied into a fresh working directory. The script
 * ends by forcing garbage collection, so a file handle the example forgot to
 * close shows up as a warning on stderr (@vmstream/node's VMSTREAM_UNCLOSED_SOURCE, or Node's DEP0137 for a FileHandle) — which fails the test.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const { publishedPackages } = (await import(join(ROOT, "scripts/check-packages.mjs"))) as {
  publishedPackages(): Array<{ dir: string; pkg: { name: string } }>;
};

interface Example {
  pkg: string;
  dir: string;
  index: number;
  code: string;
  inputs: Array<[name: string, fixture: string]>;
}

/** The runnable examples of a README, in order. */
export function examples(pkg: string, dir: string, readme: string): Example[] {
  const out: Example[] = [];
  const re = /(?:<!--\s*example-inputs:([^>]*?)-->\s*\n)?```(?:ts|js)\n([\s\S]*?)```/g;
  for (const m of readme.matchAll(re)) {
    const code = m[2]!;
    if (!/from\s+"@vmstream\//.test(code)) continue;
    const inputs = (m[1] ?? "")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split("=") as [string, string]);
    out.push({ pkg, dir, index: out.length, code, inputs });
  }
  return out;
}

/** Collect what an example left for the garbage collector: an unclosed FileHandle then warns. */
const EPILOGUE = `
;globalThis.gc();
await new Promise((r) => setTimeout(r, 50));
globalThis.gc();
await new Promise((r) => setTimeout(r, 50));
`;

const all = publishedPackages().flatMap(({ dir, pkg }) => examples(pkg.name, dir, readFileSync(join(dir, "README.md"), "utf8")));
const built = publishedPackages().every((p) => existsSync(join(p.dir, "dist")));
if (!built) console.log("README examples skipped: they run against the built packages — run `npm run build` first (npm test does)");

/** Scripts live under the checkout so that `@vmstream/…` resolves to the workspace packages. */
const SCRIPTS = join(ROOT, "node_modules/.cache/vmstream-readme");

export function runExample(ex: Example): { status: number | null; stdout: string; stderr: string } {
  const work = mkdtempSync(join(tmpdir(), "vmstream-readme-"));
  try {
    for (const [name, fixture] of ex.inputs) copyFileSync(join(ROOT, fixture), join(work, name));
    const script = join(SCRIPTS, ex.pkg.replace("/", "+"), `example-${ex.index}.mjs`);
    mkdirSync(join(script, ".."), { recursive: true });
    writeFileSync(script, ex.code + EPILOGUE);
    const r = spawnSync(process.execPath, ["--expose-gc", script], { cwd: work, encoding: "utf8", timeout: 120_000, env: { ...process.env, NODE_OPTIONS: "" } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe("README examples", () => {
  test("every published package's README has one", () => {
    const without = publishedPackages()
      .filter(({ pkg }) => pkg.name !== "@vmstream/cli") // the command's README shows shell commands (docs/cli.md is their contract)
      .filter(({ pkg }) => !all.some((e) => e.pkg === pkg.name))
      .map(({ pkg }) => pkg.name);
    expect(without).toEqual([]);
  });

  test.skipIf(!built).each(all.map((e) => [`${e.pkg} #${e.index + 1}`, e] as const))("%s runs as written, without a warning", (_name, ex) => {
    const r = runExample(ex);
    expect(r.stderr, `stderr of the example:\n${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });

  test.skipIf(!built)("a leaked file handle is caught", () => {
    const leak: Example = {
      pkg: "@vmstream/node",
      dir: "",
      index: 99,
      code: 'import { fileSource } from "@vmstream/node";\nawait fileSource("f");\n',
      inputs: [["f", "fixtures/xen/libxc_tiny_v3.bin"]],
    };
    expect(runExample(leak).stderr).toMatch(/VMSTREAM_UNCLOSED_SOURCE|DEP0137|FileHandle/);
  });
});
