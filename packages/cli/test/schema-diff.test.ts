import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemu, tmp } from "./fixtures.js";
import { vmstream } from "./run.js";

const dump = (n: string) => qemu(join("static-checker", n));

describe("vmstream schema-diff on real -dump-vmstate output", () => {
  it("QEMU's own checker test pair is incompatible: 13 errors, one line per finding naming the section", async () => {
    const r = await vmstream(["schema-diff", dump("dump1.json"), dump("dump2.json")]);
    expect(r.code).toBe(1);
    const lines = r.stdout.toString().trimEnd().split("\n");
    // vmstate-static-checker.py 7.2 reports 13 problems on this pair (shared/README.md).
    expect(lines.filter((l) => l.startsWith("error: "))).toHaveLength(13);
    for (const l of lines.slice(0, -1)) expect(l).toMatch(/^(error|warning): section "[^"]+"/);
    expect(lines.at(-1)).toMatch(/^incompatible: .*13 errors/);
    expect(r.stdout.toString()).toContain('section "usb-kbd"');
  });

  it("--json gives the findings with severity, section, path and message", async () => {
    const r = await vmstream(["schema-diff", dump("dump1.json"), dump("dump2.json"), "--json"]);
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
