import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO, vmstream } from "./run.js";

const qemu = (n: string) => join(REPO, "fixtures/qemu", n);

describe("encode of a QEMU document streams it", () => {
  it("decode → encode is byte-identical and a cut document leaves no output", async () => {
    const d = mkdtempSync(join(tmpdir(), "vmstream-enc-"));
    const dec = await vmstream(["decode", qemu("pc-7.2-ram6m.mig")]);
    expect(dec.code, dec.stderr).toBe(0);
    writeFileSync(join(d, "a.json"), dec.stdout);
    const enc = await vmstream(["encode", join(d, "a.json"), join(d, "a.mig")]);
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(join(d, "a.mig")).equals(readFileSync(qemu("pc-7.2-ram6m.mig")))).toBe(true);
    writeFileSync(join(d, "cut.json"), dec.stdout.subarray(0, 6000));
    const bad = await vmstream(["encode", join(d, "cut.json"), join(d, "cut.mig")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^.*cut\.json: qemu@3: offset \d+: /);
    expect(readdirSync(d).sort()).toEqual(["a.json", "a.mig", "cut.json"]);
  });
});
