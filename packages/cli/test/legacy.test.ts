import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tmp, xen } from "./fixtures.js";
import { mapLimit, vmstream } from "./run.js";

describe("vmstream on legacy Xen images", () => {
  it("inspect names the width and guest type", async () => {
    const r = await vmstream(["inspect", xen("legacy_hvm_64.bin")]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout.toString();
    expect(out.split("\n")[0]).toBe(`${xen("legacy_hvm_64.bin")}: legacy@64 — Legacy Xen save image (Xen ≤ 4.5), 12,652 bytes`);
    expect(out).toMatch(/HVM/);
    expect(out).toMatch(/64-bit/);
  });

  it("convert gives exactly what Xen's convert-legacy-stream wrote", async () => {
    const d = tmp();
    const cases: [string, string, string, string, string][] = [];
    for (const g of ["hvm", "pv"]) for (const w of ["32", "64"]) for (const f of ["libxc", "libxl"]) cases.push([`legacy_${g}_${w}.bin`, `conv_${g}_${w}_${f}.bin`, w, g, f]);
    cases.push(["legacy_pv_32tool_64guest.bin", "conv_pv_32t64g.bin", "32", "pv", "libxl"]);
    for (const w of ["32", "64"]) for (const f of ["libxc", "libxl"]) cases.push([`legacy_tiny_hvm_${w}.bin`, `conv_tiny_${w}.${f}.bin`, w, "hvm", f]);
    await mapLimit(cases, 4, async ([src, want, w, g, f]) => {
      const out = join(d, want);
      const r = await vmstream(["convert", xen(src), out, "--to", f, "--width", w, "--guest", g]);
      expect(r.code, `${src}: ${r.stderr}`).toBe(0);
      expect(readFileSync(out).equals(readFileSync(xen(want))), `${src} → ${want}`).toBe(true);
    });
  });

  it("a width or guest type that does not match the image is refused, naming the offset, with no file left", async () => {
    const d = tmp();
    const w = await vmstream(["convert", xen("legacy_hvm_64.bin"), join(d, "o.bin"), "--to", "libxc", "--width", "32", "--guest", "hvm"]);
    expect(w.code).toBe(1);
    // The width is octets 4–7 of the image (Xen's legacy spec).
    expect(w.stderr).toMatch(new RegExp(`^${xen("legacy_hvm_64.bin")}: legacy@64: offset 4: .*64-bit.*\\n$`));
    const g = await vmstream(["convert", xen("legacy_hvm_64.bin"), join(d, "o.bin"), "--to", "libxc", "--guest", "pv"]);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(new RegExp(`^${xen("legacy_hvm_64.bin")}: legacy@64: offset \\d+: .*HVM.*\\n$`));
    expect(readdirSync(d)).toEqual([]);
  });

  it("usage errors in convert flags exit 2", async () => {
    const d = tmp();
    expect((await vmstream(["convert", xen("legacy_hvm_64.bin"), join(d, "o"), "--to", "libxc", "--width", "48"])).code).toBe(2);
    expect((await vmstream(["convert", xen("legacy_hvm_64.bin"), join(d, "o"), "--to", "libxc", "--guest", "arm"])).code).toBe(2);
    expect((await vmstream(["convert", xen("legacy_hvm_64.bin"), join(d, "o")])).code).toBe(2);
    expect(readdirSync(d)).toEqual([]);
  });
});
