import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, qemu, tmp } from "./fixtures.js";
import { vmstream } from "./run.js";

const dump = (n: string) => qemu(join("static-checker", n));

const release = (r: string) => join(FIXTURES, "qemu-releases", "dumps", `vmstate-${r}.json`);

describe("vmstream schema-diff (wire layout) on the dumps of QEMU 5.2, 7.2 and 10.0", () => {
  it("7.2 → 10.0: e1000e is not an error, devices 10.0 lacks are listed apart, one summary line", async () => {
    const r = await vmstream(["schema-diff", release("7.2"), release("10.0")]);
    const lines = r.stdout.toString().trimEnd().split("\n");
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^(error|warning|info): \S+/);
    expect(lines.filter((l) => l.startsWith("error: e1000e"))).toEqual([]);
    expect(lines).toContain('warning: serial-mm: only in source: dest\'s build has no "serial-mm"; a stream holding one is refused ("Unknown savevm section or instance")');
    expect(lines.at(-1)).toMatch(/: 209 devices in both builds: \d+ compatible, \d+ conditional, \d+ broken; 5 only in source, 22 only in destination$/);
  });

  it("--json gives severity, kind, device, path, reason, code and effect", async () => {
    const r = await vmstream(["schema-diff", release("7.2"), release("10.0"), "--json"]);
    const doc = JSON.parse(r.stdout.toString());
    expect(doc.mode).toBe("wire");
    expect(doc.onlyInSource.sort()).toEqual(["PIIX3-xen", "acpi-ged-x86", "pci-piix3", "serial-mm", "sysbus-ahci"]);
    for (const f of doc.findings) expect(Object.keys(f)).toEqual(expect.arrayContaining(["severity", "kind", "device", "path", "reason", "code", "effect"]));
    const timadj = doc.findings.find((f: { path: string }) => f.path === "core.timadj");
    expect(timadj).toMatchObject({ severity: "warning", device: "e1000e", when: [{ field: "e1000e.core.timadj" }] });
    expect(r.code).toBe(doc.compatible ? 0 : 1);
  });

  it("--qemu-compatible: 15, 14 and 40 errors, as QEMU 10.0's vmstate-static-checker.py prints", async () => {
    for (const [a, b, n] of [["5.2", "7.2", 15], ["7.2", "10.0", 14], ["10.0", "7.2", 40]] as const) {
      const r = await vmstream(["schema-diff", release(a), release(b), "--qemu-compatible"]);
      expect(r.code).toBe(1);
      expect(r.stdout.toString().trimEnd().split("\n").at(-1)).toMatch(new RegExp(`: ${n} errors, `));
    }
  });
});

describe("vmstream schema-diff --qemu-compatible on real -dump-vmstate output", () => {
  it("QEMU's own checker test pair is incompatible: 13 errors, one line per finding naming the section", async () => {
    const r = await vmstream(["schema-diff", dump("dump1.json"), dump("dump2.json"), "--qemu-compatible"]);
    expect(r.code).toBe(1);
    const lines = r.stdout.toString().trimEnd().split("\n");
    // vmstate-static-checker.py 7.2 reports 13 problems on this pair (shared/README.md).
    expect(lines.filter((l) => l.startsWith("error: "))).toHaveLength(13);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^(error|warning): section "[^"]+"/);
    expect(lines.at(-1)).toMatch(/^incompatible: .*13 errors/);
    expect(r.stdout.toString()).toContain('section "usb-kbd"');
  });

  it("--json gives the findings with severity, section, path and message", async () => {
    const r = await vmstream(["schema-diff", dump("dump1.json"), dump("dump2.json"), "--json", "--qemu-compatible"]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout.toString());
    expect(doc.compatible).toBe(false);
    expect(doc.errors).toBe(13);
    for (const f of doc.findings) expect(Object.keys(f)).toEqual(expect.arrayContaining(["severity", "section", "path", "message"]));
  });

  it("a machine's dump against itself is compatible (exit 0); reading from standard input works", async () => {
    const same = await vmstream(["schema-diff", qemu("pc-7.2.vmstate.json"), qemu("pc-7.2.vmstate.json")]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout.toString()).toMatch(/^compatible: /);
    const piped = await vmstream(["schema-diff", "-", qemu("pc-7.2.vmstate.json")], readFileSync(qemu("pc-7.2.vmstate.json")));
    expect(piped.code, piped.stderr).toBe(0);
  });

  it("bad JSON is invalid input with the offset where parsing stopped; a missing file is a usage error", async () => {
    const d = tmp();
    const f = join(d, "bad.json");
    writeFileSync(f, '{"a": [1, 2,, 3]}');
    const r = await vmstream(["schema-diff", f, qemu("pc-7.2.vmstate.json")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${f}: vmstate-dump: offset 12: not valid JSON`));
    expect((await vmstream(["schema-diff", join(d, "nope.json"), f])).code).toBe(2);
  });
});
