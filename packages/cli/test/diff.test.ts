import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemu, FIXTURES } from "./fixtures.js";
import { vmstream } from "./run.js";

const cross = (n: string) => join(FIXTURES, "qemu-releases/cross", n);

type Tree = Record<string, unknown>;
const isObject = (x: unknown): x is Tree => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * The leaves that differ between two analyze-migration.py outputs (QEMU
 * 10.0's script, fixtures), sections matched by idstr and the order of their
 * instances: the reference the diff's "value differs" findings must equal.
 */
function referenceDiff(a: Tree, b: Tree): string[] {
  const byName = (t: Tree) => {
    const m = new Map<string, unknown>();
    const seen = new Map<string, number>();
    for (const [k, v] of Object.entries(t)) {
      const name = k.replace(/ \(\d+\)$/, "");
      const n = seen.get(name) ?? 0;
      seen.set(name, n + 1);
      m.set(`${name} ${n}`, v);
    }
    return m;
  };
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string, sec: string) => {
    if (isObject(x) && isObject(y)) {
      for (const k of Object.keys(x)) if (Object.hasOwn(y, k)) walk(x[k], y[k], path ? `${path}.${k}` : k, sec);
    } else if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.min(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`, sec);
    } else if (JSON.stringify(x) !== JSON.stringify(y) && Array.isArray(x) === Array.isArray(y)) out.push(`${sec}: ${path}`);
  };
  const ma = byName(a);
  const mb = byName(b);
  for (const [k, v] of ma) if (mb.has(k)) walk(v, mb.get(k), "", k);
  return out.sort();
}

describe("vmstream diff", () => {
  it("a stream against itself: exit 0, equal", async () => {
    const r = await vmstream(["diff", qemu("pc-7.2-stopped.mig"), qemu("pc-7.2-stopped.mig")]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/^equal: \d+ sections compared$/m);
  });

  it("the same machine saved by QEMU 7.2 and by 10.0: exactly the fields QEMU's own analyze output differs in, with reasons", async () => {
    const r = await vmstream(["diff", cross("7.2-to-pc-q35-7.2.mig"), cross("10.0-to-pc-q35-7.2.mig"), "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout.toString()) as { equal: boolean; machine: unknown; devices: { fields: { section: string; instance: number; path: string; reason: string; renamedTo?: string }[]; onlyA: unknown[]; onlyB: unknown[] } };
    expect(d.equal).toBe(false);
    expect(d.machine).toBeNull();
    expect(d.devices.onlyA).toEqual([]);
    expect(d.devices.onlyB).toEqual([]);
    const ref = referenceDiff(
      JSON.parse(readFileSync(cross("7.2-to-pc-q35-7.2.analyze.json"), "utf8")) as Tree,
      JSON.parse(readFileSync(cross("10.0-to-pc-q35-7.2.analyze.json"), "utf8")) as Tree,
    );
    const ours = d.devices.fields.filter((f) => f.reason === "value differs").map((f) => `${f.section} ${f.instance}: ${f.path}`).sort();
    expect(ours).toEqual(ref);
    // hpet's field was renamed between the releases with the same bytes on the wire.
    expect(d.devices.fields).toContainEqual(expect.objectContaining({ section: "hpet", path: "num_timers", reason: "renamed", renamedTo: "num_timers_save" }));
  });

  it("RAM page by page: the 6 MiB of random data the loader put at 0x400000 is exactly what differs from a stopped guest", async () => {
    // fixtures/qemu/README.md: pc-7.2-ram6m.mig is pc-7.2-stopped's command line plus
    // `-device loader,file=RANDOM_6MiB,addr=0x400000`.
    const r = await vmstream(["diff", qemu("pc-7.2-ram6m.mig"), qemu("pc-7.2-stopped.mig"), "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout.toString()) as { ram: { blocks: unknown[]; pages: { name: string; differ: number; onlyA: number; onlyB: number; ranges: [number, number][] }[] } };
    expect(d.ram.blocks).toEqual([]);
    expect(d.ram.pages).toEqual([expect.objectContaining({ name: "pc.ram", differ: 1536, onlyA: 0, onlyB: 0, ranges: [[0x400000, 0xa00000]] })]);
    const text = await vmstream(["diff", qemu("pc-7.2-ram6m.mig"), qemu("pc-7.2-stopped.mig")]);
    expect(text.stdout.toString()).toContain("RAM block pc.ram: 1536 pages differ: 0x400000-0xa00000");
  });

  it("refuses a Xen stream with one line naming the family", async () => {
    const r = await vmstream(["diff", join(FIXTURES, "xen/libxc_hvm_v3.bin"), qemu("pc-7.2-stopped.mig")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/libxc_hvm_v3\.bin: libxc@3: offset 0: diff compares QEMU streams/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
