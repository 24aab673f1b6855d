/**
 * Differential test against QEMU 7.2's own scripts/vmstate-static-checker.py:
 * mutate real dump sections, run both checkers, and require that every
 * problem the script reports (section + kind) is one we report too. Needs
 * python3 and the script; set QEMU_STATIC_CHECKER to its path, or have the
 * QEMU mirror this project was built with. Skips with a printed reason otherwise.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { propertyParams } from "@vmstream/testing";
import { describe, expect } from "vitest";
import { schemaDiff, type FindingCode } from "../../src/checker/index.js";

function findScript(): string | undefined {
  const env = process.env.QEMU_STATIC_CHECKER;
  if (env && existsSync(env)) return env;
  // scripts/peers installs QEMU 7.2's scripts here.
  const peer = "/opt/vmstream-peers/qemu-7.2-scripts/vmstate-static-checker.py";
  if (existsSync(peer)) return peer;
  const mirror = "/work/.mirror/oracle+qemu/repo";
  if (!existsSync(mirror)) return undefined;
  const r = spawnSync("git", [`--git-dir=${mirror}`, "show", "refs/tags/v7.2.0:scripts/vmstate-static-checker.py"], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "vmstate-checker-"));
  const path = join(dir, "vmstate-static-checker.py");
  writeFileSync(path, r.stdout);
  return path;
}

const python = spawnSync("python3", ["--version"]).status === 0;
const script = python ? findScript() : undefined;
if (!script) console.log("differential.test: skipped, no python3 or no QEMU 7.2 vmstate-static-checker.py (set QEMU_STATIC_CHECKER)");

/**
 * The script prints field-level version checks exactly like description-level
 * ones (`Description "<parent>": version error: a > b`); we judge field
 * presence differently (docs/spec/vmstate.md, difference 3), so such lines are
 * told apart by their numbers and left out.
 */
function fieldLevel(line: string, src: J, dst: J): boolean {
  const m = /^Section "([^"]*)".*Description "([^"]*)": version error: (\d+) > (\d+)/.exec(line);
  if (!m) return false;
  const [, sec, desc, a, b] = m;
  const find = (dump: J) => (dump[sec!]?.Description ? descriptions(dump[sec!].Description).filter((d) => d.name === desc) : []);
  const descLevel = find(src).some((x) => x.version_id === Number(a)) && find(dst).some((x) => x.version_id === Number(b));
  return !descLevel;
}

/** The script's lines as (section, kind); its half-printed section-level lines are glued to the next. */
function scriptFindings(out: string, src: J, dst: J): Set<string> {
  const found = new Set<string>();
  const kinds: [RegExp, FindingCode][] = [
    [/does not exist in dest/, "section-missing"],
    [/minimum version error/, "version-too-old"],
    [/version error/, "version-too-new"],
    [/; skipping rest/, "field-name"],
    [/while dest has no further fields/, "dest-fields-exhausted"],
    [/Entry ".*" missing/, "entry-missing"],
    [/missing description/, "description-missing"],
    [/missing, got ".*" instead; skipping/, "description-name"],
    [/Subsection ".*" not found/, "subsection-missing"],
    [/unused size mismatch/, "unused-size"],
    [/size mismatch/, "size-mismatch"],
  ];
  for (const line of out.split("\n")) {
    if (!line || line.startsWith("Warning") || fieldLevel(line, src, dst)) continue;
    const sec = /^Section "([^"]*)"/.exec(line)?.[1];
    const kind = kinds.find(([re]) => re.test(line))?.[1];
    if (sec === undefined || kind === undefined) throw new Error(`unparsed checker line: ${line}`);
    found.add(`${sec} ${kind}`);
  }
  return found;
}

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const base = JSON.parse(readFileSync(new URL("../../../../fixtures/qemu/static-checker/dump1.json", import.meta.url), "utf8")) as J;
// Sections whose own numbers agree with their description (as every real dump's do).
const names = Object.keys(base).filter((k) => k !== "vmschkmachine" && base[k].Description && base[k].version_id === base[k].Description.version_id && base[k].minimum_version_id === base[k].Description.minimum_version_id);

/** Every description in a section, with its parent field list. */
function descriptions(d: J, out: J[] = []): J[] {
  out.push(d);
  for (const f of d.Fields ?? []) if (f.Description) descriptions(f.Description, out);
  for (const s of d.Subsections ?? []) descriptions(s, out);
  return out;
}

const mutation = fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 10 }), fc.integer({ min: -2, max: 2 }));

function mutate(dump: J, [a, b, kind, delta]: [number, number, number, number]): void {
  const secs = Object.keys(dump).filter((k) => k !== "vmschkmachine");
  if (secs.length === 0) return;
  const sec = dump[secs[a % secs.length]!]!;
  if (!sec.Description) return;
  const ds = descriptions(sec.Description);
  const d = ds[b % ds.length]!;
  const fields: J[] = d.Fields ?? [];
  const fi = fields.length ? b % fields.length : 0;
  switch (kind) {
    case 0: // version bump of the top description and its section, kept in step like QEMU's dump
      if (d === sec.Description) sec.version_id = d.version_id = Math.max(0, d.version_id + delta);
      else d.version_id = Math.max(0, d.version_id + delta);
      break;
    case 1:
      if (d === sec.Description) sec.minimum_version_id = d.minimum_version_id = Math.max(0, d.minimum_version_id + delta);
      else d.minimum_version_id = Math.max(0, d.minimum_version_id + delta);
      break;
    case 2:
      if (fields[fi]) fields[fi].field = `${fields[fi].field}_x`;
      break;
    case 3:
      fields.splice(fi, 1);
      break;
    case 4:
      fields.splice(fi, 0, { field: "added", version_id: 0, field_exists: false, size: 4 });
      break;
    case 5:
      if (fields[fi] && !fields[fi].Description) fields[fi].size = Math.max(1, fields[fi].size + delta);
      break;
    case 6:
      if (fields[fi] && !fields[fi].Description) fields[fi] = { field: "unused", version_id: 0, field_exists: false, size: Math.max(1, fields[fi].size + delta) };
      break;
    case 7:
      if (d.Subsections?.length) d.Subsections.splice(b % d.Subsections.length, 1);
      break;
    case 8:
      d.name = `${d.name}2`;
      break;
    case 9:
      if (delta > 0) delete d.Fields;
      else if (d.Subsections) delete d.Subsections;
      else delete sec.Description;
      break;
    case 10:
      delete dump[secs[a % secs.length]!];
      break;
  }
}

describe.skipIf(!script)("schemaDiff against QEMU 7.2's vmstate-static-checker.py", () => {
  const dir = script ? mkdtempSync(join(tmpdir(), "vmstate-diff-")) : "";
  const params = propertyParams(15) as { numRuns?: number; seed?: number };
  test.prop([fc.subarray(names, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean()], params)(
    "every problem the script reports on mutated real dumps, we report",
    (pick, muts, reverse) => {
      const src: J = { vmschkmachine: base.vmschkmachine };
      for (const n of pick) src[n] = base[n];
      const dst: J = JSON.parse(JSON.stringify(src));
      for (const m of muts) mutate(dst, m);
      const [s, d] = reverse ? [dst, src] : [src, dst];
      writeFileSync(join(dir, "s.json"), JSON.stringify(s));
      writeFileSync(join(dir, "d.json"), JSON.stringify(d));
      const r = spawnSync("python3", [script!, "-s", join(dir, "s.json"), "-d", join(dir, "d.json")], { encoding: "utf8" });
      // The script itself crashes on some inputs (a Python traceback): nothing to compare then.
      if (r.stderr.includes("Traceback")) return;
      const theirs = scriptFindings(r.stdout, s, d);
      // Its exit status counts its errors (capped at 255).
      expect(r.status, r.stdout).toBe(Math.min(255, r.stdout.split("\n").filter((l) => l && !l.startsWith("Warning")).length));
      const ours = new Set(schemaDiff(s, d).filter((f) => f.severity === "error").map((f) => `${f.section} ${f.code}`));
      for (const t of theirs) expect(ours, `script: ${r.stdout}`).toContain(t);
    },
    180_000, // one python3 process per case
  );
  test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});
