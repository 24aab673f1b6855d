import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemu, tmp } from "./fixtures.js";
import { mapLimit, vmstream } from "./run.js";

const MIGS = ["pc-7.2-stopped.mig", "pc-7.2-netusb.mig", "q35-7.2-smp2.mig", "pc-2.0-old.mig", "pc-7.2-postcopy.mig", "pc-7.2-uuid.mig", "pc-7.2-compress.mig"];

describe("vmstream on real QEMU 7.2 streams", () => {
  it("inspect names the format, the machine type, the sections and the RAM", async () => {
    const r = await vmstream(["inspect", qemu("pc-7.2-stopped.mig")]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out.split("\n")[0]).toBe(`${qemu("pc-7.2-stopped.mig")}: qemu@3 — QEMU savevm / migration stream, 387,381 bytes`);
    expect(out).toContain("pc-i440fx-7.2"); // -M pc-i440fx-7.2
    // Device sections QEMU 7.2 writes for this machine (the fixture's analyze.json lists them).
    const analyze = JSON.parse(readFileSync(qemu("pc-7.2-stopped.analyze.json"), "utf8")) as Record<string, unknown>;
    for (const key of Object.keys(analyze)) {
      const idstr = /^(.*) \(\d+\)$/.exec(key)?.[1];
      if (idstr && idstr !== "ram") expect(out).toContain(idstr);
    }
    expect(out).toMatch(/RAM/);
    expect(out).toContain('"pc.ram" 33554432 bytes'); // -m 32
  });

  it("inspect --json --view analyze prints what analyze-migration.py -d state printed", async () => {
    await mapLimit(["pc-7.2-stopped", "q35-7.2-smp2", "pc-7.2-netusb", "pc-7.2-ram6m"], 4, async (n) => {
      const r = await vmstream(["inspect", qemu(`${n}.mig`), "--json", "--view", "analyze"]);
      expect(r.code, r.stderr).toBe(0);
      // Byte for byte, so `diff` against the script's output is empty (and jq filters see the same value).
      expect(r.stdout.toString()).toBe(readFileSync(qemu(`${n}.analyze.json`), "utf8"));
    });
  });

  it("verify accepts every QEMU stream", async () => {
    await mapLimit(MIGS, 4, async (n) => {
      const r = await vmstream(["verify", qemu(n)]);
      expect(r.code, `${n}: ${r.stderr}`).toBe(0);
      expect(r.stdout.toString().startsWith(`${qemu(n)}: qemu@3: valid`), r.stdout.toString()).toBe(true);
    });
  });

  it("verify: damage after the EOF byte is a warning (exit 0), an error with --strict (exit 1); an unlisted section is an error", async () => {
    const good = readFileSync(qemu("pc-7.2-stopped.mig"));
    const d = tmp();
    // Two bytes appended after the vmdesc trailer: QEMU 7.2 loads this file (it stops reading at the trailer).
    const tail = join(d, "tail.mig");
    writeFileSync(tail, Buffer.concat([good, Buffer.from([1, 2])]));
    const w = await vmstream(["verify", tail]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout.toString()).toBe(`${tail}: qemu@3: valid (34 records, ${good.length + 2} bytes), 1 warning\n`);
    expect(w.stderr).toBe(`${tail}: qemu@3: offset ${good.length}: warning: vmdesc trailer: bytes after the vmdesc trailer\n`);
    const s = await vmstream(["verify", "--strict", tail]);
    expect(s.code).toBe(1);
    expect(s.stdout.toString()).toBe("");
    expect(s.stderr).toBe(`${tail}: qemu@3: offset ${good.length}: bytes after the vmdesc trailer\n`);
    // PCIBUS -> PCIBUR: QEMU refuses ("Unknown savevm section or instance 'PCIBUR' 0"), so does verify, strict or not.
    const at = good.indexOf("PCIBUS");
    const bad = Buffer.from(good);
    bad[at + 5] ^= 1;
    const f = join(d, "pcibur.mig");
    writeFileSync(f, bad);
    for (const args of [["verify", f], ["verify", "--strict", f]]) {
      const v = await vmstream(args);
      expect(v.code).toBe(1);
      expect(v.stderr).toBe(`${f}: qemu@3: offset ${at}: unknown savevm section or instance 'PCIBUR' 0: the stream's own vmdesc does not list that section\n`);
    }
  });

  it("a damaged section type gives the contract line at the section's offset, from verify and inspect", async () => {
    const good = readFileSync(qemu("pc-7.2-stopped.mig"));
    // QEMU_VM_SECTION_FULL (4), section id 0, idstr "timer" (length 5): the timer section starts here.
    const at = good.indexOf(Buffer.from([0x04, 0, 0, 0, 0, 5, ...Buffer.from("timer")]));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(good);
    bad[at] = 0x2a;
    const d = tmp();
    const f = join(d, "bad.mig");
    writeFileSync(f, bad);
    const v = await vmstream(["verify", f]);
    expect(v.code).toBe(1);
    expect(v.stdout.toString()).toBe("");
    expect(v.stderr).toMatch(new RegExp(`^${f}: qemu@3: offset ${at}: .*section type 0x2a.*\\n$`));
    const i = await vmstream(["inspect", f]);
    expect(i.code).toBe(1);
    expect(i.stderr).toBe(v.stderr);
    // What was understood before the fault is still shown.
    expect(i.stdout.toString()).toContain("pc-i440fx-7.2");
  });

  it("a truncated stream is invalid (exit 1), never a stack trace", async () => {
    const d = tmp();
    const f = join(d, "cut.mig");
    // Cut inside the device sections (the vmdesc trailer starts at 288,727).
    writeFileSync(f, readFileSync(qemu("pc-7.2-stopped.mig")).subarray(0, 280_000));
    for (const cmd of ["inspect", "verify", "decode"]) {
      const r = await vmstream([cmd, f]);
      expect(r.code, cmd).toBe(1);
      expect(r.stderr, cmd).toMatch(new RegExp(`^${f}: qemu@3: offset \\d+: [^\\n]+\\n$`));
    }
    // Cut inside the vmdesc trailer (QEMU loads that): verify and inspect warn, exit 0; decode cannot keep it whole.
    const t = join(d, "cut-trailer.mig");
    writeFileSync(t, readFileSync(qemu("pc-7.2-stopped.mig")).subarray(0, 300_000));
    const v = await vmstream(["verify", t]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(new RegExp(`^${t}: qemu@3: offset 288728: warning: vmdesc trailer: `));
    expect((await vmstream(["verify", "--strict", t])).code).toBe(1);
    const i = await vmstream(["inspect", t]);
    expect(i.code, i.stderr).toBe(0);
    expect(i.stdout.toString()).toMatch(/note: warning at offset 288728: vmdesc trailer: /);
    expect((await vmstream(["decode", t])).code).toBe(1);
  });

  it("recode is byte-identical for every stream, through files and pipes", async () => {
    const d = tmp();
    await mapLimit(MIGS, 4, async (n) => {
      const out = join(d, n);
      const r = await vmstream(["recode", qemu(n), out]);
      expect(r.code, `${n}: ${r.stderr}`).toBe(0);
      expect(readFileSync(out).equals(readFileSync(qemu(n))), n).toBe(true);
    });
    const p = await vmstream(["recode", "-", "-"], readFileSync(qemu("q35-7.2-smp2.mig")));
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.equals(readFileSync(qemu("q35-7.2-smp2.mig")))).toBe(true);
  });

  it("decode then encode gives the same bytes", async () => {
    const d = tmp();
    const dec = await vmstream(["decode", qemu("pc-7.2-netusb.mig")]);
    expect(dec.code, dec.stderr).toBe(0);
    expect(JSON.parse(dec.stdout.toString()).format).toBe("qemu@3");
    writeFileSync(join(d, "x.json"), dec.stdout);
    const enc = await vmstream(["encode", join(d, "x.json"), join(d, "x.mig")]);
    expect(enc.code, enc.stderr).toBe(0);
    expect(readFileSync(join(d, "x.mig")).equals(readFileSync(qemu("pc-7.2-netusb.mig")))).toBe(true);
  });

  it("convert to qemu@4 and back is lossless; the format-4 stream verifies", async () => {
    const d = tmp();
    const v4 = join(d, "v4.mig");
    expect((await vmstream(["convert", qemu("pc-7.2-stopped.mig"), v4, "--to", "qemu@4"])).code).toBe(0);
    const v = await vmstream(["verify", v4]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.toString()).toMatch(/: qemu@4: valid/);
    const v3 = join(d, "v3.mig");
    expect((await vmstream(["convert", v4, v3, "--to", "qemu@3"])).code).toBe(0);
    expect(readFileSync(v3).equals(readFileSync(qemu("pc-7.2-stopped.mig")))).toBe(true);
    expect(readdirSync(d).sort()).toEqual(["v3.mig", "v4.mig"]);
  });
});
