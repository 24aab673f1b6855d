/**
 * The matrix model of @vmstream/testing (what `vmstream matrix` renders and
 * release scripts read) and the `vmstream matrix` command itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ObservedCell, classify, interopRequired, matrixPasses, parseMatrix, renderHtml, renderJson, renderMarkdown } from "@vmstream/testing";
import { describe, expect, test } from "vitest";
import { matrixCells } from "../src/index.js";

const cell = (property: string, ok: boolean, reason = ""): ObservedCell => ({ family: "context", from: "1", to: "2", property, ok, runs: ok ? 1000 : 3, seed: 7, reason });

describe("classify against the known-incompatibilities list", () => {
  const known = [{ family: "context", from: "1", to: "2", property: "downgrade", reason: "loses the big-endian option" }];

  test("a listed failure is expected-fail with both reasons; an unlisted one is fail", () => {
    const { matrix, problems } = classify([cell("upgrade", false, "boom"), cell("downgrade", false, "silent")], known);
    expect(matrix.cells.map((c) => c.verdict)).toEqual(["fail", "expected-fail"]);
    expect(matrix.cells[1]!.reason).toBe("known: loses the big-endian option (observed: silent)");
    expect(problems).toEqual(["context 1→2 upgrade: new failure: boom"]);
    expect(matrixPasses(matrix)).toBe(false);
  });

  test("a listed cell that passes is a failure of the list", () => {
    const { matrix, problems } = classify([cell("downgrade", true)], known);
    expect(matrix.cells[0]!.verdict).toBe("fail");
    expect(problems[0]).toContain("passes now");
  });

  test("a listed entry that matches no cell is reported", () => {
    const { problems } = classify([cell("upgrade", true)], [{ ...known[0]!, from: "9" }]);
    expect(problems).toEqual(["context 9→2 downgrade: listed in known-incompatibilities.json but no such cell exists"]);
  });

  test("all green and expected failures only: releasable", () => {
    const { matrix } = classify([cell("upgrade", true), cell("downgrade", false, "x")], known);
    expect(matrixPasses(matrix)).toBe(true);
    expect(matrixPasses({ cells: [] })).toBe(false);
  });
});

describe("renderings", () => {
  const m = classify([cell("upgrade", true), cell("downgrade", false, "a <script>alert(1)</script> | pipe")], []).matrix;

  test("matrix.json round-trips through parseMatrix and keeps the documented shape", () => {
    const back = parseMatrix(JSON.parse(renderJson(m)));
    expect(back).toEqual(m);
    expect(Object.keys(JSON.parse(renderJson(m)).cells[0])).toEqual(["family", "from", "to", "property", "verdict", "runs", "seed", "reason"]);
    expect(() => parseMatrix({ cells: [{ ...m.cells[0], verdict: "green" }] })).toThrow(/verdict/);
    expect(() => parseMatrix({})).toThrow(/cells/);
  });

  test("Markdown is deterministic, names the verdicts and lists every reason", () => {
    const md = renderMarkdown(m);
    expect(renderMarkdown(m)).toBe(md);
    expect(md).toContain("**NOT releasable**: 2 cells, 1 pass, 1 fail, 0 expected-fail.");
    expect(md).toContain("| context | 1 → 2 | ✅ pass (1000) | ❌ fail (3) | — | — |");
    expect(md).toContain("a &lt;script>alert(1)&lt;/script> \\| pipe");
  });

  test("HTML is one self-contained page with escaped reasons and a colour per verdict", () => {
    const html = renderHtml(m);
    expect(html).toContain('<td class="pass">');
    expect(html).toContain('<td class="fail">');
    expect(html).toContain("a &lt;script&gt;alert(1)&lt;/script&gt; | pipe");
    expect(html).not.toMatch(/<script|https?:\/\/|<link/);
  });
});

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(ROOT, "packages/cli/bin/vmstream.cjs");
const built = existsSync(join(ROOT, "packages/cli/dist/main.js")) && existsSync(join(ROOT, "compat/dist/index.js"));
if (!built && !interopRequired()) console.log("vmstream matrix tests skipped: run `npm run build` first (npm test does)");

describe.skipIf(!built && !interopRequired())("vmstream matrix", () => {
  const vm = (args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}) =>
    spawnSync(process.execPath, [BIN, "matrix", ...args], {
      cwd: opts.cwd ?? ROOT,
      input: opts.input,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      timeout: 240_000,
    });

  test("--input renders JSON, Markdown and HTML and exits by the verdicts", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmstream-matrix-"));
    try {
      const red = classify([cell("upgrade", true), cell("downgrade", false, "silent")], []).matrix;
      const green = classify([cell("upgrade", true), cell("downgrade", false, "x")], [{ family: "context", from: "1", to: "2", property: "downgrade", reason: "known" }]).matrix;
      writeFileSync(join(dir, "red.json"), renderJson(red));
      writeFileSync(join(dir, "green.json"), renderJson(green));
      const r = vm(["--input", join(dir, "red.json"), "--json", join(dir, "o.json"), "--markdown", join(dir, "o.md"), "--html", join(dir, "o.html")]);
      expect(r.status, r.stderr).toBe(1);
      expect(readFileSync(join(dir, "o.json"), "utf8")).toBe(renderJson(red));
      expect(readFileSync(join(dir, "o.md"), "utf8")).toBe(renderMarkdown(red, { title: "vmstream compatibility matrix" }));
      expect(readFileSync(join(dir, "o.html"), "utf8")).toBe(renderHtml(red, { title: "vmstream compatibility matrix" }));
      const g = vm(["--input", "-"], { input: renderJson(green) });
      expect(g.status, g.stderr).toBe(0);
      expect(g.stdout).toContain("**Releasable**");
      const bad = vm(["--input", "-"], { input: '{"cells": [{"family": 1}]}' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/matrix: cells\[0\]\.\w+: expected/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("outside a checkout, --input works and a bare run says there is nothing to run (exit 1, as docs/cli.md says)", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmstream-matrix-out-"));
    try {
      const green = classify([cell("upgrade", true)], []).matrix;
      writeFileSync(join(dir, "m.json"), renderJson(green));
      const ok = vm(["--input", "m.json"], { cwd: dir });
      expect(ok.status, ok.stderr).toBe(0);
      expect(ok.stdout).toContain("**Releasable**");
      const r = vm([], { cwd: dir });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("pass --input matrix.json");
      const missing = vm(["--input", "nope.json"], { cwd: dir });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toMatch(/^nope\.json: cannot read it: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("inside a checkout it runs the compat runner and writes the matrix where asked", () => {
    const dir = mkdtempSync(join(tmpdir(), "vmstream-matrix-run-"));
    try {
      const r = vm(["--json", join(dir, "m.json")], { cwd: join(ROOT, "packages"), env: { FC_NUM_RUNS: "5" } });
      const m = parseMatrix(JSON.parse(readFileSync(join(dir, "m.json"), "utf8")));
      expect(m.cells.length).toBe(matrixCells().length);
      expect(m.cells.every((c) => c.runs <= 5)).toBe(true);
      expect(r.status).toBe(matrixPasses(m) ? 0 : 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
