import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, vmstream } from "./run.js";

const FIX = join(REPO, "fixtures/context");
const fx = (n: string) => join(FIX, n);
const tmp = () => mkdtempSync(join(tmpdir(), "vmstream-cli-"));

describe("vmstream CLI contract on context streams", () => {
  it("inspect prints a summary and --json a document", async () => {
    const r = await vmstream(["inspect", fx("ctx1-small.bin")]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/context@1/);
    const j = await vmstream(["inspect", fx("ctx2-be.bin"), "--json"]);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.stdout.toString());
    expect(doc.format).toBe("context@2");
    expect(doc.byte_order).toBe("big-endian");
  });

  it("verify of a damaged stream prints the contract line and exits 1", async () => {
    const d = tmp();
    const bad = new Uint8Array(readFileSync(fx("ctx1-small.bin")));
    bad[78] = 0xaa; // padding byte of the first record
    writeFileSync(join(d, "bad.bin"), bad);
    const r = await vmstream(["verify", join(d, "bad.bin")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`${join(d, "bad.bin")}: context@1: offset 78: record[0]: non-zero record padding: expected 0x00, found 0xaa`);
  });

  it("recode is byte-identical, through files and through pipes", async () => {
    const d = tmp();
    for (const n of readdirSync(FIX).filter((f) => f.endsWith(".bin"))) {
      const out = join(d, `${n}.out`);
      const r = await vmstream(["recode", fx(n), out]);
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(out)).toEqual(readFileSync(fx(n)));
      const p = await vmstream(["recode", "-", "-"], readFileSync(fx(n)));
      expect(p.code, p.stderr).toBe(0);
      expect(p.stdout).toEqual(readFileSync(fx(n)));
    }
  });

  it("decode then encode gives the same bytes", async () => {
    const d = tmp();
    const dec = await vmstream(["decode", fx("ctx2-wide-instance.bin")]);
    expect(dec.code).toBe(0);
    writeFileSync(join(d, "x.json"), dec.stdout);
    const enc = await vmstream(["encode", join(d, "x.json"), join(d, "x.bin")]);
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(join(d, "x.bin"))).toEqual(readFileSync(fx("ctx2-wide-instance.bin")));
  });

  it("convert 1 → 2 matches the independent encoder; a refused 2 → 1 leaves no file", async () => {
    const d = tmp();
    const ok = await vmstream(["convert", fx("ctx1-small.bin"), join(d, "v2.bin"), "--to", "context@2"]);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(d, "v2.bin"))).toEqual(readFileSync(fx("ctx2-le.bin")));
    const no = await vmstream(["convert", fx("ctx2-wide-instance.bin"), join(d, "v1.bin"), "--to", "context@1"]);
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/^.*: context@2: offset \d+: record\[\d+\].*instance/);
    expect(readdirSync(d)).toEqual(["v2.bin"]);
  });

  it("usage errors exit 2; undetectable input exits 1 at offset 0", async () => {
    expect((await vmstream(["frobnicate"])).code).toBe(2);
    expect((await vmstream(["inspect"])).code).toBe(2);
    expect((await vmstream(["inspect", fx("ctx1-small.bin"), "--bogus"])).code).toBe(2);
    expect((await vmstream(["inspect", "/nonexistent/file"])).code).toBe(2);
    expect((await vmstream(["inspect", fx("ctx1-small.bin"), "--format", "nope@1"])).code).toBe(2);
    const short = await vmstream(["inspect", "-"], new Uint8Array([1, 2, 3]));
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^-: unknown: offset 0: /);
  });

  it("refuses to write over its input", async () => {
    const d = tmp();
    const p = join(d, "a.bin");
    writeFileSync(p, readFileSync(fx("ctx2-le.bin")));
    const r = await vmstream(["recode", p, p]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the input file/);
    expect(readFileSync(p)).toEqual(readFileSync(fx("ctx2-le.bin")));
  });

  it("--help shows examples", async () => {
    const r = await vmstream(["convert", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/Examples:/);
  });
});
