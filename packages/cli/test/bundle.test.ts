import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, vmstream } from "./run.js";

/*
 * The command runs as one pre-bundled program (dist/bundle, bundle.config.mjs):
 * these check that what the bin starts is that bundle, that each run loads only
 * its codec's chunk, and that the bin works from an installed tarball.
 */
const CLI = join(REPO, "packages/cli");
const BUNDLE = join(CLI, "dist/bundle");
const pkg = JSON.parse(readFileSync(join(CLI, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };

/** Chunk files a run of the bundle loaded, in order (the bundle is CommonJS: require's cache at exit). */
function chunksLoaded(args: string[]): { files: string[]; stdout: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-bundle-"));
  try {
    const log = join(dir, "loaded.txt");
    const hook = join(dir, "hook.cjs");
    writeFileSync(
      hook,
      `const { writeFileSync } = require("node:fs");\nprocess.on("exit", () => writeFileSync(${JSON.stringify(log)}, Object.keys(require.cache).filter((f) => f.includes("/dist/bundle/")).map((f) => f.slice(f.lastIndexOf("/") + 1)).join("\\n")));\n`,
    );
    const r = spawnSync(process.execPath, ["--require", hook, join(CLI, "bin/vmstream.cjs"), ...args], { cwd: REPO, encoding: "utf8" });
    const files = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean) : [];
    return { files, stdout: r.stdout, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Node's internal modules a run loaded beyond what `node -e 0` loads (process.moduleLoadList at exit). */
function builtinsLoaded(args: string[]): { modules: string[]; stdout: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-builtins-"));
  try {
    const hook = join(dir, "hook.cjs");
    writeFileSync(
      hook,
      // The list is taken before anything is written, and written with write(2): process.stderr would load streams itself.
      `const { writeSync } = require("node:fs");\nconst base = new Set(process.moduleLoadList);\nprocess.on("exit", () => { const extra = process.moduleLoadList.filter((m) => !base.has(m)); writeSync(2, "@@" + JSON.stringify(extra) + "\\n"); });\n`,
    );
    // stderr is a pipe here, as in scripts and the bench: no terminal, so no progress bar.
    const r = spawnSync(process.execPath, ["--require", hook, join(CLI, "bin/vmstream.cjs"), ...args], { cwd: REPO, encoding: "utf8" });
    const line = r.stderr.split("\n").find((l) => l.startsWith("@@"));
    if (!line) throw new Error(`no module list from the run: ${r.stderr}`);
    return { modules: JSON.parse(line.slice(2)) as string[], stdout: r.stdout, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the pre-bundled CLI", () => {
  it("is built, with the reader thread's script beside it", () => {
    expect(existsSync(join(BUNDLE, "vmstream.js"))).toBe(true);
    expect(existsSync(join(BUNDLE, "stdin-worker.js"))).toBe(true);
  });

  it("has no static import cycle between chunks (a cycle runs modules before their imports exist)", () => {
    const chunks = readdirSync(BUNDLE).filter((f) => f.endsWith(".js"));
    const edges = new Map(
      chunks.map((f) => [f, [...readFileSync(join(BUNDLE, f), "utf8").matchAll(/^const \w+ = require\("\.\/([^"]+)"\);$/gm)].map((m) => m[1]!)]),
    );
    // The entry runs first and to completion before any chunk is loaded (they are all dynamic imports), so edges into it are safe.
    const cycle = (f: string, path: string[]): string[] | null => {
      if (path.includes(f)) return [...path, f];
      for (const g of edges.get(f) ?? []) {
        if (g === "vmstream.js") continue;
        const c = cycle(g, [...path, f]);
        if (c) return c;
      }
      return null;
    };
    for (const f of chunks) expect(cycle(f, []), f).toBeNull();
    expect(edges.get("vmstream.js")).toEqual([]);
  });

  it("prints the package's version without loading any codec or core chunk", () => {
    const r = chunksLoaded(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.files).toEqual(["vmstream.js"]);
  });

  it.each([
    ["fixtures/context/ctx2-le.bin", "context"],
    ["fixtures/xen/libxc_tiny_v3.bin", "xen"],
    ["fixtures/qemu/pc-7.2-stopped.mig", "qemu"],
  ])("verify %s loads the %s chunk and no other codec's", (file, chunk) => {
    const r = chunksLoaded(["verify", file]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/: valid \(/);
    const codecs = r.files.map((f) => /^(context|xen|qemu|legacy)-/.exec(f)?.[1]).filter(Boolean);
    expect(codecs).toEqual([chunk]);
  });

  // The bundle and the bin are CommonJS (bundle.config.mjs): Node's ES module loader never starts, and Node's modules
  // come from require(): an ES import of node:fs or node:util builds a facade that loads ~20 stream modules;
  // node:crypto and node:fs/promises load more. None is needed for a verdict.
  it.each([
    [["--version"]],
    [["verify", "fixtures/xen/libxc_tiny_v3.bin"]],
    [["verify", "fixtures/context/ctx2-le.bin"]],
    [["verify", "fixtures/qemu/pc-7.2-stopped.mig"]],
  ])("%j loads neither Node's ES module loader nor its stream, crypto or fs/promises modules", (args) => {
    const r = builtinsLoaded(args);
    expect(r.status).toBe(0);
    // No module is loaded as an ES module (node:module, which the lazy loaders of zlib and worker_threads use,
    // loads the ES loader's code itself, for module.register; it then stays idle).
    expect(r.modules.filter((m) => /stream|crypto|fs\/promises|modules\/esm\/(module_job|module_map|translators)/.test(m))).toEqual([]);
  });

  it("reads a long pipe through the bundled reader thread", async () => {
    const mig = readFileSync(join(REPO, "fixtures/qemu/pc-7.2-stopped.mig"));
    expect(mig.byteLength).toBeGreaterThan(256 << 10); // past the prologue, so the thread starts
    const r = await vmstream(["verify", "-"], mig);
    expect(r.stderr).toBe("");
    expect(r.stdout.toString()).toBe(`-: qemu@3: valid (34 records, ${mig.byteLength} bytes)\n`);
  });

  it("works from an installed tarball", { timeout: 180_000 }, (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "vmstream-tarball-"));
    try {
      // Every published workspace package (the CLI's own and their dependencies), as the registry would hold them.
      const local = readdirSync(join(REPO, "packages")).filter((d) => {
        const f = join(REPO, "packages", d, "package.json");
        return existsSync(f) && JSON.parse(readFileSync(f, "utf8")).private !== true;
      });
      for (const p of local) {
        const r = spawnSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: join(REPO, "packages", p), encoding: "utf8" });
        expect(r.status, r.stderr).toBe(0);
      }
      writeFileSync(join(dir, "package.json"), '{ "name": "t", "private": true }\n');
      const tgz = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
      const inst = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...tgz.map((f) => `./${f}`)], { cwd: dir, encoding: "utf8" });
      if (inst.status !== 0) {
        // Only the third-party dependency comes from the registry; without it (offline, empty cache) this cannot run.
        const reason = `npm install of the tarballs failed (registry unreachable?): ${inst.stderr.split("\n").find((l) => l.includes("error")) ?? inst.status}`;
        if (process.env.VMSTREAM_INTEROP === "required") throw new Error(reason);
        console.log(`skipped: ${reason}`);
        ctx.skip();
      }
      const bin = join(dir, "node_modules/.bin/vmstream");
      const v = spawnSync(bin, ["--version"], { encoding: "utf8" });
      expect(v.stdout).toBe(`${pkg.version}\n`);
      const ok = spawnSync(bin, ["verify", join(REPO, "fixtures/xen/libxc_tiny_v3.bin")], { encoding: "utf8" });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(/libxc@3: valid/);
      expect(existsSync(join(dir, "node_modules/@vmstream/cli/dist/bundle/vmstream.js"))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
