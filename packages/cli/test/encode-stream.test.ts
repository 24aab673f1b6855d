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

describe("encode of a Xen document streams it", () => {
  const xen = (n: string) => join(REPO, "fixtures/xen", n);
  for (const n of ["libxc_pv64_v3.bin", "legacy_pv_64.bin", "xl_hvm.bin"]) {
    it(`${n}: decode → encode is byte-identical; cut or malformed JSON is one line with its offset and leaves no output`, async () => {
      const d = mkdtempSync(join(tmpdir(), "vmstream-enc-"));
      const dec = await vmstream(["decode", xen(n)]);
      expect(dec.code, dec.stderr).toBe(0);
      writeFileSync(join(d, "a.json"), dec.stdout);
      const enc = await vmstream(["encode", join(d, "a.json"), join(d, "a.bin")]);
      expect(enc.code, enc.stderr).toBe(0);
      expect(readFileSync(join(d, "a.bin")).equals(readFileSync(xen(n)))).toBe(true);
      const cut = Math.floor(dec.stdout.length / 2);
      writeFileSync(join(d, "cut.json"), dec.stdout.subarray(0, cut));
      const bad = await vmstream(["encode", join(d, "cut.json"), join(d, "cut.bin")]);
      expect(bad.code).toBe(1);
      expect(bad.stderr.toString()).toMatch(new RegExp(`^[^\\n]*cut\\.json: [a-z]+@\\d+: offset ${cut}: not valid JSON: [^\\n]*\\n$`));
      const broken = Buffer.from(dec.stdout);
      const comma = broken.indexOf(",\n"); // between two records: a raw newline is never inside a string
      broken[comma] = 0x3b; // ';' where a ',' belongs
      writeFileSync(join(d, "syn.json"), broken);
      const syn = await vmstream(["encode", join(d, "syn.json"), join(d, "syn.bin")]);
      expect(syn.code).toBe(1);
      expect(syn.stderr.toString()).toMatch(new RegExp(`: offset ${comma}: not valid JSON: `));
      expect(readdirSync(d).sort()).toEqual(["a.bin", "a.json", "cut.json", "syn.json"]);
    });
  }
});
