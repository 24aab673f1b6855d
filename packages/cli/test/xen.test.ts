import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, tmp, xen } from "./fixtures.js";
import { mapLimit, vmstream } from "./run.js";

const ALL = readdirSync(join(FIXTURES, "xen")).filter((n) => n.endsWith(".bin"));
/**
 * The family of each fixture, from how it was made (tools/xenpeer/build_all.py
 * and build_vectors.py; conv_* are Debian's convert-legacy-stream output;
 * legacy_xl_hvm_64 is an old-style xl file, xl header without the STREAMv2 flag
 * around a legacy image).
 */
const FAMILY: Record<string, string> = {
  "libxc_hvm_v2.bin": "libxc@2",
  "libxc_hvm_v3.bin": "libxc@3",
  "libxc_tiny_v3.bin": "libxc@3",
  "libxc_one_page_v3.bin": "libxc@3",
  "libxc_pv64_v3.bin": "libxc@3",
  "libxl_hvm_xs.bin": "libxl@2",
  "libxl_hvm_noxs.bin": "libxl@2",
  "libxl_hvm_xs_empty.bin": "libxl@2",
  "libxl_tiny.bin": "libxl@2",
  "remus_like.bin": "libxl@2",
  "xl_hvm.bin": "xl@1",
  "xl_tiny.bin": "xl@1",
  "legacy_hvm_32.bin": "legacy@32",
  "legacy_hvm_64.bin": "legacy@64",
  "legacy_pv_32.bin": "legacy@32",
  "legacy_pv_64.bin": "legacy@64",
  "legacy_pv_32tool_64guest.bin": "legacy@32",
  "legacy_tiny_hvm_32.bin": "legacy@32",
  "legacy_tiny_hvm_64.bin": "legacy@64",
  "legacy_xl_hvm_64.bin": "legacy@64",
  "conv_hvm_32_libxc.bin": "libxc@3",
  "conv_hvm_64_libxc.bin": "libxc@3",
  "conv_pv_32_libxc.bin": "libxc@3",
  "conv_pv_64_libxc.bin": "libxc@3",
  "conv_tiny_32.libxc.bin": "libxc@3",
  "conv_tiny_64.libxc.bin": "libxc@3",
  "conv_hvm_32_libxl.bin": "libxl@2",
  "conv_hvm_64_libxl.bin": "libxl@2",
  "conv_pv_32_libxl.bin": "libxl@2",
  "conv_pv_64_libxl.bin": "libxl@2",
  "conv_pv_32t64g.bin": "libxl@2",
  "conv_tiny_32.libxl.bin": "libxl@2",
  "conv_tiny_64.libxl.bin": "libxl@2",
};

describe("vmstream on Xen libxc / libxl / xl streams", () => {
  it("inspect shows the libxl layers, the libxc domain and the records with offsets", async () => {
    const r = await vmstream(["inspect", xen("libxl_hvm_xs.bin")]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out.split("\n")[0]).toBe(`${xen("libxl_hvm_xs.bin")}: libxl@2 — Xen libxl migration stream, 16,928 bytes`);
    expect(out).toMatch(/HVM/);
    // libxl records wrap a libxc stream: LIBXC_CONTEXT first (just after the 16-byte libxl header), END last.
    expect(out).toMatch(/0x10\s+0\s+LIBXC_CONTEXT/);
    for (const rec of ["PAGE_DATA", "HVM_PARAMS", "HVM_CONTEXT", "EMULATOR_XENSTORE_DATA", "EMULATOR_CONTEXT", "END"]) expect(out).toContain(rec);
  });

  it("inspect --json is a document naming the format", async () => {
    for (const [n, f] of [["xl_hvm.bin", "xl@1"], ["libxc_hvm_v2.bin", "libxc@2"], ["libxc_pv64_v3.bin", "libxc@3"]] as const) {
      const r = await vmstream(["inspect", xen(n), "--json"]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.toString()).format).toBe(f);
    }
  });

  it("verify detects the family of every fixture and accepts it", async () => {
    await mapLimit(Object.entries(FAMILY), 4, async ([n, family]) => {
      const r = await vmstream(["verify", xen(n)]);
      expect(r.code, `${n}: ${r.stderr}`).toBe(0);
      expect(r.stdout.toString().startsWith(`${xen(n)}: ${family}: valid`), `${n}: ${r.stdout}`).toBe(true);
    });
  });

  it("an unknown mandatory record gives the contract line at the record's offset", async () => {
    const bad = Buffer.from(readFileSync(xen("libxc_hvm_v3.bin")));
    // Image header (24 bytes) + domain header (16 bytes): the first record's type is at offset 40.
    bad.writeUInt32LE(0x123, 40);
    const d = tmp();
    const f = join(d, "bad.bin");
    writeFileSync(f, bad);
    const r = await vmstream(["verify", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${f}: libxc@3: offset 40: .*unknown mandatory record type 0x00000123\\n$`));
    const i = await vmstream(["inspect", f]);
    expect(i.code).toBe(1);
    expect(i.stderr).toBe(r.stderr);
    expect(i.stdout.toString()).toMatch(/first fault {2}offset 40 \(0x28\)/);
    // What was read before the fault is still shown: the domain header (build_all.py: DHDR_X86_HVM, Xen 4.17).
    expect(i.stdout.toString()).toMatch(/x86 HVM.*4\.17/);
    // The bytes around it, hexdump -C style, the faulty byte in brackets (0x123 little-endian at 40).
    expect(i.stdout.toString()).toContain("\n  00000020  04 00 00 00 11 00 00 00 [23]01 00 00 18 00 00 00  |........#.......|\n");
  });

  it("recode is byte-identical for every Xen stream", async () => {
    const d = tmp();
    await mapLimit(ALL, 4, async (n) => {
      const out = join(d, n);
      const r = await vmstream(["recode", xen(n), out]);
      expect(r.code, `${n}: ${r.stderr}`).toBe(0);
      expect(readFileSync(out).equals(readFileSync(xen(n))), n).toBe(true);
    });
  });

  it("decode then encode gives the same bytes (libxc, libxl, xl), also through standard input", async () => {
    const d = tmp();
    for (const n of ["libxc_pv64_v3.bin", "libxl_hvm_xs.bin", "xl_hvm.bin"]) {
      const dec = await vmstream(["decode", "-"], readFileSync(xen(n)));
      expect(dec.code, dec.stderr).toBe(0);
      writeFileSync(join(d, `${n}.json`), dec.stdout);
      const enc = await vmstream(["encode", join(d, `${n}.json`), "-"]);
      expect(enc.code, enc.stderr).toBe(0);
      expect(enc.stdout.equals(readFileSync(xen(n))), n).toBe(true);
    }
  });

  it("libxc 2 → 3 converts; 3 → 2 with a CPU policy is refused by name and leaves no file", async () => {
    const d = tmp();
    const up = await vmstream(["convert", xen("libxc_hvm_v2.bin"), join(d, "v3.bin"), "--to", "libxc@3"]);
    expect(up.code, up.stderr).toBe(0);
    expect((await vmstream(["verify", join(d, "v3.bin")])).stdout.toString()).toMatch(/: libxc@3: valid/);
    const down = await vmstream(["convert", xen("libxc_hvm_v3.bin"), join(d, "v2.bin"), "--to", "libxc@2"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^${xen("libxc_hvm_v3.bin")}: libxc@3: offset \\d+: .*CPUID`));
    expect(readdirSync(d)).toEqual(["v3.bin"]);
  });
});
