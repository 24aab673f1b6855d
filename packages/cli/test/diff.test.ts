import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStream, migrateTo, qemuRelease, requirePeer } from "@vmstream/peers";
import { qemu, FIXTURES, tmp } from "./fixtures.js";
import { vmstream } from "./run.js";

const dir = tmp();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const art = (n: string) => join(FIXTURES, "artefacts", n);

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

  it("two snapshots of one qcow2 image (--snapshot-a, --snapshot-b): the page and the fields that changed", async () => {
    const img = art("qcow2-7.2-two-snaps.qcow2");
    const r = await vmstream(["diff", img, img, "--snapshot-a", "snap-a", "--snapshot-b", "2", "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout.toString()) as { a: { file: string }; b: { file: string }; ram: { blocks: unknown[]; pages: { name: string; differ: number }[] }; devices: { fields: { section: string }[]; onlyA: unknown[] } };
    expect(d.a.file).toMatch(/\[snapshot 1 snap-a\]$/);
    expect(d.b.file).toMatch(/\[snapshot 2 snap-b\]$/);
    expect(d.ram.blocks).toEqual([]);
    expect(d.ram.pages.map((p) => [p.name, p.differ])).toEqual([["pc.ram", 1]]);
    expect(new Set(d.devices.fields.map((f) => f.section))).toEqual(new Set(["timer", "mc146818rtc", "i8254"]));
    const same = await vmstream(["diff", img, img, "--snapshot", "snap-b"]);
    expect(same.code, same.stderr).toBe(0);
  });

  it("a qcow2 snapshot against the stream QEMU writes after -loadvm of it: same RAM; the run state differs", async () => {
    const r = await vmstream(["diff", art("qcow2-10.0-snap.qcow2"), art("qcow2-10.0-snap.snap-a.mig"), "--json"]);
    expect(r.code, r.stderr).toBe(1);
    const d = JSON.parse(r.stdout.toString()) as { ram: { blocks: unknown[]; pages: unknown[] }; devices: { fields: { section: string; path: string }[] } };
    expect(d.ram).toEqual({ blocks: [], pages: [] });
    // "running" when saved, "prelaunch" after -loadvm -S (fixtures/artefacts/README.md); the RTC's clock
    // bytes and the IDE retry state are what a load and a re-save change besides.
    const fields = d.devices.fields.map((f) => `${f.section}: ${f.path}`);
    expect(fields).toContain("globalstate: runstate");
    expect(fields.every((f) => /^(globalstate|mc146818rtc|0000:00:01\.1\/ide): /.test(f)), fields.join(", ")).toBe(true);
  });

  it("a libvirt save image (xz) against the stream inside it: equal", async () => {
    const img = art("libvirt-9.0-xz.save");
    const inner = join(dir, "lv-xz.mig");
    expect((await vmstream(["extract", img, inner])).code).toBe(0);
    const r = await vmstream(["diff", img, inner]);
    expect(r.code, r.stdout.toString() + r.stderr).toBe(0);
    expect(r.stdout.toString()).toMatch(/^A: .*libvirt-9\.0-xz\.save \[xz-compressed QEMU stream/);
  });
});

const have10 = requirePeer("QEMU 10.0", qemuRelease("10.0"));

/** Load `src` into a paused QEMU 10.0 and have it migrate the loaded VM to `out` (no XBZRLE: plain pages). */
async function reMigrate(src: string, out: string, args: string[]): Promise<void> {
  const load = await loadStream("10.0", [...args, "-S"], src, [], { keep: true });
  if (!load.ok) throw new Error(`QEMU 10.0 refused ${src}: ${load.error}`);
  try {
    await migrateTo(load.monitor, out);
  } finally {
    await load.monitor.quit();
  }
}

describe.skipIf(!have10)("diff of a stream with XBZRLE pages", () => {
  it("equals, page for page, the plain stream QEMU 10.0 sends after loading it (the deltas applied)", { timeout: 180_000 }, async () => {
    const R10 = join(FIXTURES, "qemu-releases/10.0");
    const a = join(R10, "pc-10.0-xbzrle.mig");
    const ins = JSON.parse((await vmstream(["inspect", a, "--json"])).stdout.toString()) as { ram: { xbzrlePages: number } };
    expect(ins.ram.xbzrlePages).toBeGreaterThan(100);
    const b = join(dir, "xbzrle-reloaded.mig");
    await reMigrate(a, b, ["-M", "pc-i440fx-10.0", "-m", "64", "-bios", join(R10, "dirtier-bios.bin")]);
    const r = await vmstream(["diff", a, b, "--json"]);
    expect(r.stderr).toBe("");
    const d = JSON.parse(r.stdout.toString()) as { ram: { blocks: unknown[]; pages: { name: string; differ: number }[] } };
    expect(d.ram.blocks).toEqual([]);
    expect(d.ram.pages).toEqual([]);
    // And a stream whose RAM differs is still seen as different: against the plain 1 MiB-of-random stream.
    const other = await vmstream(["diff", a, join(R10, "pc-10.0-ram1m.mig"), "--json"]);
    const o = JSON.parse(other.stdout.toString()) as { ram: { pages: { name: string; differ: number }[] } };
    expect(o.ram.pages.find((p) => p.name === "pc.ram")!.differ).toBeGreaterThan(256);
  });
});

