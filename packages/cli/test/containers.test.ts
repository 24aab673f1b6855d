import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QemuMonitor, type QemuRelease, loadStream, qemuRelease, requirePeer } from "@vmstream/peers";
import { REPO, vmstream } from "./run.js";

/*
 * qcow2 internal snapshots and libvirt save images through the command line:
 * the fixtures (made by QEMU 7.2/10.0 and libvirt 9.0, see
 * fixtures/artefacts/README.md) listed, verified and extracted exactly; then
 * fresh images made by the real QEMU in this test, extracted by vmstream,
 * checked against qemu-io's own read of the VM state area, and loaded back
 * by QEMU 7.2. No vmstream command may change an input's bytes.
 */
const A = "fixtures/artefacts";
const dir = mkdtempSync(join(tmpdir(), "vmstream-containers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
const fx = (name: string) => join(REPO, A, name);
const out = (name: string) => join(dir, name);
const same = (a: string, b: string | Uint8Array) => Buffer.from(readFileSync(a)).equals(Buffer.from(typeof b === "string" ? readFileSync(b) : b));

const hashes = new Map<string, string>();
beforeAll(() => {
  for (const f of readdirSync(join(REPO, A))) if (/\.(qcow2|save)$/.test(f)) hashes.set(f, sha(fx(f)));
});
afterAll(() => {
  for (const [f, h] of hashes) expect(sha(fx(f)), `${f} changed`).toBe(h);
});

/** Run `cmd`, which must be refused quickly (exit 1, within 10 s) with one error line; resolves that line. */
async function refusal(cmd: string[]): Promise<string> {
  const t0 = Date.now();
  const r = await vmstream(cmd);
  expect(Date.now() - t0).toBeLessThan(10_000);
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  return lines[0]!;
}
const decompress = (prog: string, bytes: Uint8Array) => new Uint8Array(spawnSync(prog, ["-dc"], { input: bytes, maxBuffer: 64 << 20 }).stdout);
const streamOf = (file: string) => readFileSync(fx(file)).subarray(92 + 67_179);

describe("qcow2 fixtures through the CLI", () => {
  it("inspect lists the snapshot table of the README and a verdict per VM state", async () => {
    const r = await vmstream(["inspect", `${A}/qcow2-7.2-two-snaps.qcow2`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const text = r.stdout.toString();
    expect(text).toMatch(/qcow2 version 3 image, 2,031,759 bytes, 64 KiB clusters, virtual size 64 MiB; 2 internal snapshots/);
    expect(text).toMatch(/^ {2}1 {3}snap-a .* 00:00:01\.532 {2}719,818 B {2}- /m);
    expect(text).toMatch(/^ {2}2 {3}snap-b .* 00:00:02\.534 {2}719,818 B {2}- /m);
    expect(text).toMatch(/^snapshot 1 snap-a: qemu@3, valid \(\d+ records, 719818 bytes\)$/m);
    expect(text).toMatch(/^snapshot 2 snap-b: qemu@3, valid/m);
  });

  it("inspect --json carries the table; --snapshot shows the container, then the stream", async () => {
    const j = JSON.parse((await vmstream(["inspect", `${A}/qcow2-10.0-snap.qcow2`, "--json"])).stdout.toString());
    expect(j.container).toMatchObject({ kind: "qcow2", version: 3, clusterSize: 65536, snapshots: 1 });
    expect(j.snapshots.map((s: { id: string; name: string; vmStateSize: number }) => [s.id, s.name, s.vmStateSize])).toEqual([["1", "snap-a", 728_319]]);
    const r = await vmstream(["inspect", `${A}/qcow2-10.0-snap.qcow2`, "--snapshot", "snap-a"]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/\[snapshot 1 snap-a\]: qemu@3 — .*728,319 bytes[\s\S]*machine "pc-i440fx-10\.0"/);
  });

  it("verify checks every snapshot's VM state", async () => {
    const r = await vmstream(["verify", `${A}/qcow2-7.2-two-snaps.qcow2`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString().trim().split("\n")).toEqual([
      expect.stringMatching(/\[snapshot 1 snap-a\]: qemu@3: valid/),
      expect.stringMatching(/\[snapshot 2 snap-b\]: qemu@3: valid/),
    ]);
  });

  it.each([
    ["qcow2-7.2-two-snaps", "snap-a"],
    ["qcow2-7.2-two-snaps", "2"],
    ["qcow2-10.0-snap", "snap-a"],
  ])("extract %s --snapshot %s gives the stored VM state byte for byte", async (img, snap) => {
    const o = out(`${img}.${snap}.out`);
    const r = await vmstream(["extract", `${A}/${img}.qcow2`, "--snapshot", snap, o]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(same(o, fx(`${img}.${snap === "2" ? "snap-b" : snap}.vmstate`))).toBe(true);
  });

  it("extract of a single-snapshot image needs no --snapshot; of a two-snapshot image it does", async () => {
    const o = out("single.out");
    expect((await vmstream(["extract", `${A}/qcow2-10.0-snap.qcow2`, o])).code).toBe(0);
    expect(same(o, fx("qcow2-10.0-snap.snap-a.vmstate"))).toBe(true);
    const r = await vmstream(["extract", `${A}/qcow2-7.2-two-snaps.qcow2`, out("two.out")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has 2 snapshots with VM state \(1 snap-a, 2 snap-b\): pick one with --snapshot/);
    expect(readdirSync(dir)).not.toContain("two.out");
  });

  it("recode and decode read a snapshot like any stream", async () => {
    const o = out("recoded.mig");
    expect((await vmstream(["recode", `${A}/qcow2-7.2-two-snaps.qcow2`, "--snapshot", "snap-b", o])).code).toBe(0);
    expect(same(o, fx("qcow2-7.2-two-snaps.snap-b.vmstate"))).toBe(true);
    const d = await vmstream(["decode", `${A}/qcow2-10.0-snap.qcow2`]);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout.toString()).format).toBe("qemu@3");
  });

  it("everything composes: --view analyze and convert read a snapshot or a save image like the extracted stream", async () => {
    const x = out("compose.mig");
    await vmstream(["extract", `${A}/libvirt-9.0-gzip.save`, x]);
    const inner = await vmstream(["inspect", `${A}/libvirt-9.0-gzip.save`, "--view", "analyze"]);
    const bare = await vmstream(["inspect", x, "--view", "analyze"]);
    expect(inner.code).toBe(0);
    expect(inner.stdout.toString()).toBe(bare.stdout.toString());
    const q4 = out("snap.q4");
    const c = await vmstream(["convert", `${A}/qcow2-7.2-two-snaps.qcow2`, "--snapshot", "snap-a", q4, "--to", "qemu@4"]);
    expect(c.stderr).toBe("");
    const back = out("snap.q3");
    expect((await vmstream(["convert", q4, back, "--to", "qemu@3"])).code).toBe(0);
    expect(same(back, fx("qcow2-7.2-two-snaps.snap-a.vmstate"))).toBe(true);
  });

  it("--snapshot names an unknown snapshot, or a file that is no qcow2 image: refused", async () => {
    const r = await vmstream(["verify", `${A}/qcow2-7.2-two-snaps.qcow2`, "--snapshot", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^.*qcow2-7\.2-two-snaps\.qcow2: qcow2@3: offset \d+: no snapshot 'nope' \(snapshots: 1 snap-a, 2 snap-b\)\n$/);
    expect((await vmstream(["verify", `${A}/libvirt-9.0-raw.save`, "--snapshot", "1"])).code).toBe(2);
  });
});

describe("libvirt save fixtures through the CLI", () => {
  it("inspect shows the header and the domain, then the stream; --xml adds the XML", async () => {
    const r = await vmstream(["inspect", `${A}/libvirt-9.0-gzip.save`]);
    expect(r.code).toBe(0);
    const t = r.stdout.toString();
    for (const re of [
      /libvirt save image version 2, 328,857 bytes/,
      /domain {7}vmstream-fixture \(type qemu\)/,
      /uuid {9}98ef7533-4404-47df-859c-0ad1fa59f06d/,
      /machine {6}pc-i440fx-7\.2/,
      /memory {7}64 MiB/,
      /was_running {2}1/,
      /compression {2}gzip \(1\)/,
      /\[gzip-compressed QEMU stream at 67271\]: qemu@3 — /,
    ]) expect(t).toMatch(re);
    expect(t).not.toMatch(/<domain/);
    const x = await vmstream(["inspect", `${A}/libvirt-9.0-raw.save`, "--xml"]);
    expect(x.stdout.toString()).toMatch(/^<domain type='qemu'>$[\s\S]*^<\/domain>$[\s\S]*^<cookie>$/m);
  });

  it.each(["raw", "gzip", "xz"])("verify and extract libvirt-9.0-%s.save (the stream as the real decompressor gives it)", async (kind) => {
    const file = `libvirt-9.0-${kind}.save`;
    const v = await vmstream(["verify", `${A}/${file}`]);
    expect(v.stderr).toBe("");
    expect(v.stdout.toString()).toMatch(/: qemu@3: valid/);
    const o = out(`${kind}.mig`);
    expect((await vmstream(["extract", `${A}/${file}`, o])).code).toBe(0);
    const want = kind === "raw" ? streamOf(file) : decompress(kind, streamOf(file));
    expect(same(o, want)).toBe(true);
  });

  it("wrap-save --like: a raw image comes back byte-identical; an xz one with the same stream inside", async () => {
    const raw = out("raw.mig");
    await vmstream(["extract", `${A}/libvirt-9.0-raw.save`, raw]);
    const o = out("raw-again.save");
    const r = await vmstream(["wrap-save", "--like", `${A}/libvirt-9.0-raw.save`, raw, o]);
    expect(r.stderr).toBe("");
    expect(same(o, fx("libvirt-9.0-raw.save"))).toBe(true);

    const xzStream = out("xz.mig");
    await vmstream(["extract", `${A}/libvirt-9.0-xz.save`, xzStream]);
    const o2 = out("xz-again.save");
    expect((await vmstream(["wrap-save", "--like", `${A}/libvirt-9.0-xz.save`, xzStream, o2])).code).toBe(0);
    expect(Buffer.from(readFileSync(o2).subarray(0, 67_271)).equals(Buffer.from(readFileSync(fx("libvirt-9.0-xz.save")).subarray(0, 67_271)))).toBe(true);
    expect(same(xzStream, decompress("xz", readFileSync(o2).subarray(67_271)))).toBe(true);
  });

  it("wrap-save --xml --compress gzip --paused: a new image that inspects and verifies", async () => {
    const s = out("for-wrap.mig");
    writeFileSync(s, readFileSync(fx("qcow2-7.2-two-snaps.snap-a.vmstate")));
    const o = out("new.save");
    const r = await vmstream(["wrap-save", "--xml", `${A}/tools/domain.xml`, "--compress", "gzip", "--paused", s, o]);
    expect(r.stderr).toBe("");
    expect(statSync(o).mode & 0o777).toBe(0o600); // guest memory: as libvirt writes it
    const i = (await vmstream(["inspect", o])).stdout.toString();
    expect(i).toMatch(/was_running {2}0/);
    expect(i).toMatch(/compression {2}gzip/);
    expect((await vmstream(["verify", o])).code).toBe(0);
    const back = out("new.back");
    await vmstream(["extract", o, back]);
    expect(same(back, s)).toBe(true);
  });

  it("wrap-save refuses a stream that is not QEMU's, and the input as output", async () => {
    const r = await vmstream(["wrap-save", "--like", `${A}/libvirt-9.0-raw.save`, `${A}/libvirt-9.0-raw.save`, out("x.save")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/holds a QEMU stream; this input is not one/);
  });
});

describe("hostile containers through the CLI: one line, an offset, exit 1, quickly", () => {
  const qcow = readFileSync(fx("qcow2-7.2-two-snaps.qcow2"));
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const snapTable = Number(dv(qcow).getBigUint64(64));
  const l1 = Number(dv(qcow).getBigUint64(snapTable));
  const cases: [string, string, (b: Uint8Array) => void, RegExp][] = [
    ["table-past-end.qcow2", "qcow2-7.2-two-snaps.qcow2", (b) => dv(b).setBigUint64(64, 1n << 30n), /: qcow2(@3)?: offset 64: snapshot table at 1073741824 .* runs past the end of the file/],
    ["l1-loop.qcow2", "qcow2-7.2-two-snaps.qcow2", (b) => dv(b).setBigUint64(l1 + 8, BigInt(l1)), new RegExp(`l1-loop\\.qcow2: qcow2@3: offset ${l1 + 8}: L2 table at ${l1} overlaps the snapshot's own L1 table`)],
    ["data-len.save", "libvirt-9.0-raw.save", (b) => dv(b).setUint32(20, 0x7fffffff, true), /: libvirt-save: offset 20: data_len 2147483647 runs past the end of the file/],
    ["truncated.save", "libvirt-9.0-xz.save", () => {}, /\/truncated\.save: libvirt-save@2: offset 190335: xz stream from offset 67271 is corrupt or cut short: xz: .*Unexpected end of input/],
  ];
  it("a container on standard input: refused with a reason, not 'cannot detect'", async () => {
    const r = await vmstream(["verify", "-"], readFileSync(fx("qcow2-10.0-snap.qcow2")));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("-: unknown: offset 0: a qcow2 image or libvirt save image is read from a file (at offsets), not from standard input\n");
  });

  it.each(cases)("%s", async (name, from, mutate, message) => {
    let b = new Uint8Array(readFileSync(fx(from)));
    if (name === "truncated.save") b = b.subarray(0, b.byteLength - 3000);
    else mutate(b);
    const p = out(name);
    writeFileSync(p, b);
    for (const cmd of [["verify", p], ["extract", p, "--snapshot", "1", out(`${name}.x`)].filter((_, i) => from.endsWith(".qcow2") || (i !== 2 && i !== 3))]) {
      expect(await refusal(cmd)).toMatch(message);
      expect(readdirSync(dir)).not.toContain(`${name}.x`);
    }
  });
});

describe("hostile save images through the CLI, beyond the tables: each one line with an offset, no output file", () => {
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  it.each(["bzip2", "lzop", "gzip"] as const)("a %s image vmstream wrote, cut short: the compressed stream's fault, at a file offset", async (kind) => {
    const stream = out(`cut-${kind}.mig`);
    expect((await vmstream(["extract", `${A}/libvirt-9.0-raw.save`, stream])).code).toBe(0);
    const whole = out(`whole-${kind}.save`);
    const w = await vmstream(["wrap-save", stream, whole, "--like", `${A}/libvirt-9.0-raw.save`, "--compress", kind]);
    expect(w.code, w.stderr).toBe(0);
    // The whole image is good (its stream decompresses with the real program to the extracted one) …
    expect(Buffer.from(readFileSync(whole).subarray(28, 32)).readUInt32LE()).toBe({ gzip: 1, bzip2: 2, lzop: 4 }[kind]);
    expect(Buffer.from(decompress(kind, readFileSync(whole).subarray(92 + 67_179))).equals(readFileSync(stream))).toBe(true);
    expect((await vmstream(["verify", whole])).code).toBe(0);
    // … and cut short it is refused: one line naming the file, libvirt-save@2 and an offset inside the file.
    const b = readFileSync(whole);
    const p = out(`cut-${kind}.save`);
    writeFileSync(p, b.subarray(0, b.byteLength - 3000));
    for (const cmd of [["verify", p], ["extract", p, out(`cut-${kind}.x`)]]) {
      const line = await refusal(cmd);
      const m = new RegExp(`/cut-${kind}\\.save: libvirt-save@2: offset (\\d+): ${kind} stream from offset ${92 + 67_179} is corrupt or cut short`).exec(line);
      expect(m, line).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThanOrEqual(92 + 67_179);
      expect(Number(m![1])).toBeLessThanOrEqual(b.byteLength - 3000);
      expect(readdirSync(dir)).not.toContain(`cut-${kind}.x`);
    }
  });

  it.each([
    ["version 3", (b: Uint8Array) => dv(b).setUint32(16, 3, true), /: libvirt-save: offset 16: libvirt save image version 3 is not supported \(2 is\)$/],
    ["compression 7", (b: Uint8Array) => dv(b).setUint32(28, 7, true), /: libvirt-save: offset 28: unknown compression 7 \(known: 0 raw, 1 gzip, 2 bzip2, 3 xz, 4 lzop\)$/],
    ["LibvirtQemudPart", (b: Uint8Array) => b.set(new TextEncoder().encode("LibvirtQemudPart"), 0), /: libvirt-save@2: offset 0: incomplete save image \(magic LibvirtQemudPart\)/],
  ] as const)("%s: refused by verify with the number or the reason, at its offset", async (name, mutate, message) => {
    const b = new Uint8Array(readFileSync(fx("libvirt-9.0-raw.save")));
    mutate(b);
    const p = out(`hostile-${name.replace(/ /g, "-")}.save`);
    writeFileSync(p, b);
    const r = await vmstream(["verify", p]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it("an incomplete save is still shown by inspect, as INCOMPLETE, with its stream", async () => {
    const b = new Uint8Array(readFileSync(fx("libvirt-9.0-raw.save")));
    b.set(new TextEncoder().encode("LibvirtQemudPart"), 0);
    const p = out("partial.save");
    writeFileSync(p, b);
    const r = await vmstream(["inspect", p]);
    expect(r.stdout.toString()).toMatch(/libvirt save image version 2, [\d,]+ bytes — INCOMPLETE \(magic LibvirtQemudPart: the save did not finish\)/);
    expect(r.stdout.toString()).toMatch(/: qemu@3 — /);
  });
});

/* ---- real peers ---- */

function tool(name: string): boolean {
  try {
    return spawnSync(name, ["--version"], { encoding: "utf8" }).status === 0;
  } catch {
    return false;
  }
}
const missing = ["qemu-system-x86_64", "qemu-img", "qemu-io"].filter((t) => !tool(t));
if (missing.length > 0) {
  if (interopRequired()) throw new Error(`VMSTREAM_INTEROP=required but ${missing.join(", ")} missing`);
  console.info(`skip: qcow2 peer tests need ${missing.join(", ")} (Debian qemu-system-x86, qemu-utils)`);
}
const MACHINE = ["-M", "pc-i440fx-7.2", "-m", "32"];

/** The bytes `qemu-io -c 'read -b -v'` shows for the VM state of `snap`, on a scratch copy where it is applied. */
function qemuIoVmState(img: string, snap: string, size: number): Uint8Array {
  const copy = `${img}.qemu-io`;
  copyFileSync(img, copy);
  try {
    expect(spawnSync("qemu-img", ["snapshot", "-a", snap, copy]).status).toBe(0);
    const len = Math.ceil(size / 512) * 512;
    const r = spawnSync("qemu-io", ["-f", "qcow2", "-r", "-c", `read -b -v 0 ${len}`, copy], { encoding: "utf8", maxBuffer: 256 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const hex = [...r.stdout.matchAll(/^[0-9a-f]{8}: {2}((?:[0-9a-f]{2} ){16})/gm)].map((m) => m[1]!.replace(/ /g, "")).join("");
    return new Uint8Array(Buffer.from(hex, "hex")).subarray(0, size);
  } finally {
    rmSync(copy, { force: true });
  }
}

describe.skipIf(missing.length > 0)("real peers: QEMU 7.2 savevm → vmstream extract → qemu-io agrees → QEMU 7.2 loads it", () => {
  it.each([
    // The VM state starts at the first L1 boundary at or past the 64 MiB disk: one L1 entry maps 2^(2 × cluster_bits − 3) bytes (2^(2 × cluster_bits − 4) with extended L2).
    ["cluster_size=4096", 64 << 20],
    ["cluster_size=512", 64 << 20],
    ["cluster_size=2M", 2 ** 39],
    ["cluster_size=65536,extended_l2=on", 1 << 28],
    ["cluster_size=16384,compat=0.10", 64 << 20],
  ])("qemu-img create -o %s", async (opts, vmOffset) => {
    const img = out(`peer-${opts.replace(/[^a-z0-9]/gi, "_")}.qcow2`);
    expect(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", "-o", opts, img, "64M"]).status).toBe(0);
    const q = await QemuMonitor.launch("7.2", [...MACHINE, "-S", "-drive", `file=${img},if=ide,format=qcow2`]);
    try {
      expect(await q.cmd("savevm s1", 60_000)).not.toMatch(/error/i);
    } finally {
      await q.quit();
    }
    const before = sha(img);

    const i = await vmstream(["inspect", img, "--json"]);
    expect(i.code, i.stderr).toBe(0);
    const j = JSON.parse(i.stdout.toString());
    expect(j.container.version).toBe(opts.includes("compat=0.10") ? 2 : 3);
    expect(j.snapshots).toHaveLength(1);
    expect(j.snapshots[0]).toMatchObject({ id: "1", name: "s1", vmStateOffset: vmOffset });
    expect(j.snapshots[0].stream).toMatchObject({ format: "qemu@3", ok: true });
    const size: number = j.snapshots[0].vmStateSize;
    const info = JSON.parse(spawnSync("qemu-img", ["info", "--output=json", img], { encoding: "utf8" }).stdout);
    expect(info.snapshots[0]["vm-state-size"]).toBe(size);

    const x = out(`${opts}.vmstate`.replace(/[^a-z0-9.]/gi, "_"));
    expect((await vmstream(["extract", img, "--snapshot", "s1", x])).code).toBe(0);
    expect((await vmstream(["verify", img, "--snapshot", "1"])).code).toBe(0);
    expect(sha(img)).toBe(before); // vmstream never writes to the image

    expect(same(x, qemuIoVmState(img, "s1", size))).toBe(true);

    // QEMU 7.2 loads what vmstream extracted (on a copy of the disk: the stream carries the IDE state).
    const disk = `${img}.load`;
    copyFileSync(img, disk);
    const l = await QemuMonitor.launch("7.2", [...MACHINE, "-drive", `file=${disk},if=ide,format=qcow2`, "-incoming", `exec:cat ${x}`]);
    try {
      // A failed load ends QEMU (waitFor then throws); a good one leaves the saved run state: paused before boot (-S at savevm).
      const st = await l.waitFor("info status", (o) => /VM status: /.test(o) && !/inmigrate/.test(o), 60_000);
      expect(st).toMatch(/VM status: paused \(prelaunch\)/);
      expect(l.stderr).not.toMatch(/load of migration failed/);
    } finally {
      await l.quit();
    }
    expect(sha(img)).toBe(before);
  });
});

/* ---- the fixtures' VM states, loaded by the QEMU that saved them ---- */

/**
 * Load `file` as a user restores it (`-incoming exec:cat FILE` on the command
 * line) into QEMU `release` with `args`: QEMU's verdict, with QEMU's exit code
 * when it exited (a refused stream ends QEMU).
 */
async function loadWith(release: QemuRelease, args: string[], file: string): Promise<{ ok: boolean; status: string; error: string; exited: number | null }> {
  const r = await loadStream(release, args, file, [], { incoming: "argument", timeoutMs: 60_000 });
  return { ok: r.ok, status: r.status, error: r.error, exited: r.monitor.exitCode };
}

describe("the fixtures' extracted VM states load in the QEMU that saved them", () => {
  const cases: [string, string, QemuRelease, string][] = [
    ["qcow2-7.2-two-snaps", "snap-a", "7.2", "pc-i440fx-7.2"],
    ["qcow2-7.2-two-snaps", "snap-b", "7.2", "pc-i440fx-7.2"],
    ["qcow2-10.0-snap", "snap-a", "10.0", "pc-i440fx-10.0"],
  ];
  it.for(cases)("%s %s", { timeout: 120_000 }, async ([img, snap, release, machine], ctx) => {
    if (!requirePeer(`QEMU ${release}`, qemuRelease(release))) return ctx.skip();
    const x = out(`${img}.${snap}.load.mig`);
    expect((await vmstream(["extract", `${A}/${img}.qcow2`, "--snapshot", snap, x])).code).toBe(0);
    const disk = out(`${img}.${snap}.disk.qcow2`);
    copyFileSync(fx(`${img}.qcow2`), disk); // the stream carries the IDE disk's device state: the same drive must be there
    const loaded = await loadWith(release, ["-M", machine, "-m", "64", "-drive", `file=${disk},if=ide,format=qcow2`], x);
    expect(loaded.error).toBe("");
    expect(loaded.status).toBe("VM status: running"); // the fixtures were saved while running
    // Control: the same stream cut short is refused by the same QEMU, which exits.
    writeFileSync(x, readFileSync(x).subarray(0, 300_000));
    const cut = await loadWith(release, ["-M", machine, "-m", "64", "-drive", `file=${disk},if=ide,format=qcow2`], x);
    expect(cut.ok).toBe(false);
    expect(cut.exited, cut.error).not.toBeNull();
    expect(cut.error).not.toBe("");
  });
});
