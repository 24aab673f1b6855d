/**
 * Issue #15 item 1: streams freshly written by QEMU 5.2, 7.2 and 10.0 go
 * through the built `vmstream` command unchanged (verify, recode, decode →
 * encode, convert 3 → 4 → 3) and what it writes loads back into the release
 * that wrote it; and an edit made through the JSON is seen the same way by two
 * releases.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { QEMU_RELEASES, type QemuMonitor, type QemuRelease, loadStream, migrateTo, qemuRelease, requirePeer, saveStream } from "../src/index.js";
import { CLI_BUILT, vmstream } from "./cli.js";
import { tempDir } from "./tmp.js";

const dir = tempDir("releases");

// The q35 device set of the issue: PCI, PCIe and USB devices with real state.
const Q35_DEVICES = ["-smp", "2", "-device", "virtio-net-pci", "-device", "e1000e", "-device", "usb-ehci,id=ehci", "-device", "usb-tablet,bus=ehci.0"];

interface Shape {
  name: string;
  args: (r: QemuRelease) => string[];
  /** Extra source arguments (-S for a stopped machine) and how long a running guest runs first. */
  source: string[];
  runMs: number;
}
const SHAPES: Shape[] = [
  { name: "pc-stopped", args: (r) => ["-M", `pc-i440fx-${r}`, "-m", "32"], source: ["-S"], runMs: 0 },
  { name: "q35-devices", args: (r) => ["-M", `pc-q35-${r}`, "-m", "32", ...Q35_DEVICES], source: [], runMs: 1000 },
];

async function ok(args: string[]): Promise<string> {
  const r = await vmstream(args);
  expect(r.code, `vmstream ${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

function same(a: string, b: string): void {
  const x = readFileSync(a);
  const y = readFileSync(b);
  expect(x.length, `${b} has the length of ${a}`).toBe(y.length);
  expect(x.equals(y), `${b} is byte-identical to ${a}`).toBe(true);
}

test("the vmstream command is built (npm run build)", () => {
  expect(CLI_BUILT).toBe(true);
});

describe.each(QEMU_RELEASES)("streams written by QEMU %s", (r) => {
  const present = requirePeer(`QEMU ${r}`, qemuRelease(r)) && CLI_BUILT;

  describe.skipIf(!present).each(SHAPES)("$name", (shape) => {
    const mig = join(dir, `${shape.name}-${r}.mig`);
    beforeAll(async () => {
      await saveStream(r, [...shape.args(r), ...shape.source], mig, [], {}, shape.runMs);
    });

    const rec = `${mig}.recode`;
    test("verify passes; recode, decode → encode and convert 3 → 4 → 3 are byte-identical", async () => {
      // Independent commands run side by side: each is a Node process start on a small stream.
      const json = `${mig}.json`;
      const v4 = `${mig}.v4`;
      const [verdict, , decoded] = await Promise.all([ok(["verify", mig]), ok(["recode", mig, rec]), ok(["decode", mig]), ok(["convert", mig, v4, "--to", "qemu@4"])]);
      expect(verdict).toMatch(/qemu@3: valid/);
      same(mig, rec);
      expect(readFileSync(v4).equals(readFileSync(mig)), "qemu@4 differs from qemu@3").toBe(false);
      writeFileSync(json, decoded);
      const enc = `${mig}.encode`;
      const v3 = `${mig}.v3`;
      await Promise.all([ok(["encode", json, enc]), ok(["convert", v4, v3, "--to", "qemu@3"])]);
      same(mig, enc);
      same(mig, v3);
    });

    test(`what vmstream recoded loads back into QEMU ${r}`, async () => {
      const back = await loadStream(r, shape.args(r), rec);
      expect(back.error).toBe("");
      expect(back.ok).toBe(true);
    });
  });
});

/** CMOS byte `index` as the guest would read it: index to port 0x70, data from port 0x71. */
async function readCmos(m: QemuMonitor, index: number): Promise<number> {
  await m.cmd(`o /b 0x70 0x${index.toString(16)}`);
  const o = await m.cmd("i /b 0x71");
  const hit = /=\s*0x([0-9a-f]+)/i.exec(o);
  if (!hit) throw new Error(`unexpected answer to "i /b 0x71": ${o}`);
  return parseInt(hit[1]!, 16);
}

interface RtcSection {
  idstr: string;
  state: { cmos_data: string };
}
function cmosOf(doc: { stream: Array<Partial<RtcSection>> }): Buffer {
  const rtc = doc.stream.find((s) => s.idstr === "mc146818rtc" && s.state !== undefined);
  if (!rtc) throw new Error("no mc146818rtc section with state in the decoded stream");
  return Buffer.from(rtc.state!.cmos_data, "base64");
}

// An NVRAM byte (0x0e..0x7f: not a clock register) that the firmware of a
// paused machine has not touched and that QEMU does not recompute on load.
const CMOS_INDEX = 0x7e;
const RECEIVERS = ["7.2", "10.0"] as const;

describe.skipIf(!(RECEIVERS.every((r) => requirePeer(`QEMU ${r}`, qemuRelease(r))) && CLI_BUILT))("a CMOS byte edited through the JSON", () => {
  // pc-i440fx-7.2 is a machine type both releases have: the same machine on both sides.
  const machine = ["-M", "pc-i440fx-7.2", "-m", "32"];

  test("is what QEMU 7.2 and QEMU 10.0 see after loading the edited stream", async () => {
    const mig = join(dir, "cmos.mig");
    await saveStream("7.2", [...machine, "-S"], mig);
    const doc = JSON.parse(await ok(["decode", mig])) as { stream: Array<Partial<RtcSection>> };
    const cmos = cmosOf(doc);
    const value = cmos[CMOS_INDEX]! ^ 0xa5;
    cmos[CMOS_INDEX] = value;
    doc.stream.find((s) => s.idstr === "mc146818rtc")!.state!.cmos_data = cmos.toString("base64");
    const json = join(dir, "cmos-edited.json");
    writeFileSync(json, JSON.stringify(doc));
    const edited = join(dir, "cmos-edited.mig");
    await ok(["encode", json, edited]);
    // The edit is one byte of the stream, nothing else moved.
    const a = readFileSync(mig);
    const b = readFileSync(edited);
    expect(b.length).toBe(a.length);
    expect(a.reduce((n, x, i) => n + (x === b[i] ? 0 : 1), 0)).toBe(1);
    expect(await ok(["verify", edited])).toMatch(/valid/);

    const seen: Record<string, { port: number; resaved: Buffer }> = {};
    for (const r of RECEIVERS) {
      const load = await loadStream(r, machine, edited, [], { keep: true });
      expect(load.error, `QEMU ${r}`).toBe("");
      expect(load.ok).toBe(true);
      try {
        // Save what the loaded machine holds before touching it, then ask the guest's way.
        const again = join(dir, `cmos-resaved-${r}.mig`);
        await migrateTo(load.monitor, again);
        const resaved = cmosOf(JSON.parse(await ok(["decode", again])) as { stream: Array<Partial<RtcSection>> });
        const port = await readCmos(load.monitor, CMOS_INDEX);
        seen[r] = { port, resaved };
      } finally {
        await load.monitor.quit();
      }
    }
    for (const r of RECEIVERS) {
      expect(seen[r]!.port, `QEMU ${r} through port 0x71`).toBe(value);
      expect(seen[r]!.resaved[CMOS_INDEX], `QEMU ${r} saving again`).toBe(value);
      // The whole NVRAM part survives each release unchanged.
      expect(seen[r]!.resaved.subarray(0x0e).equals(cmos.subarray(0x0e)), `QEMU ${r}: NVRAM 0x0e..0x7f`).toBe(true);
    }
  });
});
