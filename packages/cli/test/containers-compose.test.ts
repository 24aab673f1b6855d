import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, vmstream } from "./run.js";

/*
 * Everything composes (issue 17): a qcow2 snapshot or a libvirt save image is
 * accepted wherever a QEMU stream is — inspect --view analyze, decode,
 * convert (versions and --layout), preflight (as the stream and as the
 * destination's probe) — and gives what the same command gives on the stream
 * `extract` takes out of it (itself checked byte for byte against the stored
 * VM state in containers.test.ts). Real fixtures only: fixtures/artefacts
 * (QEMU 7.2/10.0, libvirt 9.0) and fixtures/qemu-releases (QEMU 10.0's
 * mapped-ram file).
 */
const A = "fixtures/artefacts";
const dir = mkdtempSync(join(tmpdir(), "vmstream-compose-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = (name: string) => join(dir, name);
const bytes = (p: string) => readFileSync(p.startsWith("/") ? p : join(REPO, p));
const sha = (p: string) => createHash("sha256").update(bytes(p)).digest("hex");

/** Each container and the bare stream extracted from it (made once, in beforeAll). */
const CONTAINERS: [string, string[]][] = [
  [`${A}/qcow2-7.2-two-snaps.qcow2`, ["--snapshot", "snap-b"]],
  [`${A}/qcow2-10.0-snap.qcow2`, []],
  [`${A}/libvirt-9.0-raw.save`, []],
  [`${A}/libvirt-9.0-gzip.save`, []],
  [`${A}/libvirt-9.0-xz.save`, []],
];
const bare = (c: string) => out(`${c.split("/").pop()}.mig`);
const hashes = new Map<string, string>();
beforeAll(async () => {
  for (const [c, sel] of CONTAINERS) {
    hashes.set(c, sha(c));
    const r = await vmstream(["extract", c, ...sel, bare(c)]);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(() => {
  for (const [c, h] of hashes) expect(sha(c), `${c} changed`).toBe(h);
});

describe("a container wherever a QEMU stream is accepted", () => {
  it.each(CONTAINERS)("decode %s: the document of the stream inside, identical to the extracted stream's", async (c, sel) => {
    const inner = await vmstream(["decode", c, ...sel]);
    const plain = await vmstream(["decode", bare(c)]);
    expect(inner.stderr).toBe("");
    expect(inner.code).toBe(0);
    expect(inner.stdout.equals(plain.stdout)).toBe(true);
    // And the document encodes back to the stored stream.
    const doc = out(`${c.split("/").pop()}.json`);
    writeFileSync(doc, inner.stdout);
    const back = out(`${c.split("/").pop()}.encoded`);
    expect((await vmstream(["encode", doc, back])).code).toBe(0);
    expect(bytes(back).equals(bytes(bare(c)))).toBe(true);
  });

  it.each(CONTAINERS)("inspect %s --view analyze prints what analyze prints for the extracted stream", async (c, sel) => {
    const inner = await vmstream(["inspect", c, ...sel, "--view", "analyze"]);
    expect(inner.code, inner.stderr).toBe(0);
    expect(inner.stdout.toString()).toBe((await vmstream(["inspect", bare(c), "--view", "analyze"])).stdout.toString());
    expect(JSON.parse(inner.stdout.toString())).toHaveProperty(["timer (0)"]);
  });

  it.each(CONTAINERS)("convert %s --to qemu@4 and --layout mapped-ram: the same bytes as from the extracted stream", async (c, sel) => {
    const name = c.split("/").pop()!;
    for (const [to, extra] of [["qemu@4", []], ["qemu@3", ["--layout", "mapped-ram"]]] as const) {
      const a = out(`${name}.${to}${extra.length ? ".mr" : ""}.from-container`);
      const b = out(`${name}.${to}${extra.length ? ".mr" : ""}.from-bare`);
      const r = await vmstream(["convert", c, ...sel, a, "--to", to, ...extra]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect((await vmstream(["convert", bare(c), b, "--to", to, ...extra])).code).toBe(0);
      expect(bytes(a).equals(bytes(b)), `${name} → ${to} ${extra.join(" ")}`).toBe(true);
    }
  });

  it("convert --layout plain of a mapped-ram stream inside a save image reads the stream inside twice, not the file", async () => {
    // QEMU 10.0's own mapped-ram file (fixtures/qemu-releases/README.md), wrapped as libvirt would save it.
    const mr = "fixtures/qemu-releases/10.0/pc-10.0-mappedram-m16.mig";
    const xml = out("mr-domain.xml");
    writeFileSync(xml, "<domain type='qemu'><name>mr</name><memory unit='MiB'>16</memory><os><type machine='pc-i440fx-10.0'>hvm</type></os></domain>\n");
    const want = out("mr.plain");
    expect((await vmstream(["convert", join(REPO, mr), want, "--to", "qemu@3", "--layout", "plain"])).code).toBe(0);
    for (const z of ["raw", "gzip"]) {
      const save = out(`mr.${z}.save`);
      const w = await vmstream(["wrap-save", join(REPO, mr), save, "--xml", xml, "--compress", z]);
      expect(w.code, w.stderr).toBe(0);
      const got = out(`mr.${z}.plain`);
      const r = await vmstream(["convert", save, got, "--to", "qemu@3", "--layout", "plain"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(bytes(got).equals(bytes(want)), z).toBe(true);
    }
  });
});

describe("memory and diff read the stream inside too", () => {
  // A 64 MiB core each: a snapshot and an image decompressed by a program stand for the others.
  it.each([CONTAINERS[0]!, CONTAINERS[4]!])("memory %s: the same ELF core as from the extracted stream", async (c, sel) => {
    const name = c.split("/").pop()!;
    const a = out(`${name}.elf`);
    const b = out(`${name}.bare.elf`);
    const r = await vmstream(["memory", c, ...sel, a]);
    expect(r.code, r.stderr).toBe(0);
    expect((await vmstream(["memory", bare(c), b])).code).toBe(0);
    expect(bytes(a).equals(bytes(b))).toBe(true);
  });

  it("diff of two containers reports what diff of their extracted streams reports", async () => {
    const pairs: [string, string][] = [
      [`${A}/libvirt-9.0-raw.save`, `${A}/libvirt-9.0-xz.save`],
      [`${A}/libvirt-9.0-gzip.save`, `${A}/qcow2-10.0-snap.qcow2`],
    ];
    for (const [x, y] of pairs) {
      const c = await vmstream(["diff", x, y, "--json"]);
      const b = await vmstream(["diff", bare(x), bare(y), "--json"]);
      expect(c.stderr).toBe("");
      expect(c.code).toBe(b.code);
      const strip = (t: string) => {
        const j = JSON.parse(t);
        delete j.a.file;
        delete j.b.file;
        return j;
      };
      expect(strip(c.stdout.toString())).toEqual(strip(b.stdout.toString()));
    }
  });
});

describe("preflight STREAM --against DEST, either or both a container", () => {
  /** preflight's output with the paths replaced, to compare a container's run with the extracted streams'. */
  const run = async (s: string, d: string, extra: string[] = []) => {
    const r = await vmstream(["preflight", s, "--against", d, ...extra]);
    return { code: r.code, text: r.stdout.toString().replaceAll(s, "STREAM").replaceAll(d, "DEST"), stderr: r.stderr };
  };

  it.each([
    // same QEMU 7.2 machine (libvirt's raw and xz saves of one domain): loads
    [`${A}/libvirt-9.0-raw.save`, `${A}/libvirt-9.0-xz.save`, [], 0],
    // a 7.2 snapshot against a 10.0 one: QEMU 10.0 refuses the machine type
    [`${A}/qcow2-7.2-two-snaps.qcow2`, `${A}/qcow2-10.0-snap.qcow2`, ["--snapshot", "snap-a"], 1],
    // the other way round, the destination's snapshot picked with --against-snapshot
    [`${A}/qcow2-10.0-snap.qcow2`, `${A}/qcow2-7.2-two-snaps.qcow2`, ["--against-snapshot", "2"], 1],
    // a save image's stream against a snapshot's: the same 7.2 machine type, other devices (an IDE disk)
    [`${A}/libvirt-9.0-gzip.save`, `${A}/qcow2-7.2-two-snaps.qcow2`, ["--against-snapshot", "snap-b"], -1],
  ] as const)("%s against %s %s", async (s, d, extra, code) => {
    const c = await run(s, d, [...extra]);
    expect(c.stderr).toBe("");
    const sb = s.includes("two-snaps") ? out("qcow2-7.2-two-snaps.snap-a.mig") : bare(s);
    if (s.includes("two-snaps")) expect((await vmstream(["extract", s, "--snapshot", "snap-a", sb])).code).toBe(0);
    const db = d.includes("two-snaps") ? out(`two-snaps.${extra.at(-1)}.mig`) : bare(d);
    if (d.includes("two-snaps")) expect((await vmstream(["extract", d, "--snapshot", extra.at(-1)!, db])).code).toBe(0);
    const b = await run(sb, db);
    // The verdict and every cause are those of the streams inside.
    expect(c).toEqual(b);
    if (code >= 0) expect(c.code).toBe(code);
    if (code === 1) expect(c.text).toMatch(/^refused: Machine type received is 'pc-i440fx-(7\.2|10\.0)' and local is 'pc-i440fx-(10\.0|7\.2)'$/m);
    if (code === 0) expect(c.text).toMatch(/^loads: STREAM on probe DEST \(checked machine type/m);
  });

  it("a destination image with two VM states needs --against-snapshot (exit 2, naming them)", async () => {
    const r = await vmstream(["preflight", `${A}/libvirt-9.0-raw.save`, "--against", `${A}/qcow2-7.2-two-snaps.qcow2`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has 2 snapshots with VM state \(1 snap-a, 2 snap-b\): pick one with --against-snapshot ID\|NAME/);
  });

  it("a broken container as the stream: one line, the container's offset, exit 1", async () => {
    const b = Buffer.from(bytes(`${A}/libvirt-9.0-raw.save`));
    b.writeUInt32LE(0x7fffffff, 20);
    const p = out("preflight-data-len.save");
    writeFileSync(p, b);
    const r = await vmstream(["preflight", p, "--against", `${A}/libvirt-9.0-xz.save`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^.*preflight-data-len\.save: libvirt-save: offset 20: data_len 2147483647 runs past the end of the file[^\n]*\n$/);
    expect(r.stdout.toString()).toBe("");
  });
});

it("schema-diff takes -dump-vmstate documents only: a container is refused as no JSON, at offset 0", async () => {
  const r = await vmstream(["schema-diff", `${A}/qcow2-10.0-snap.qcow2`, `${A}/libvirt-9.0-raw.save`]);
  expect(r.code).toBe(1);
  expect(r.stderr.split("\n")).toHaveLength(2);
  expect(r.stderr).toMatch(/qcow2-10\.0-snap\.qcow2: vmstate-dump: offset 0: /);
});
