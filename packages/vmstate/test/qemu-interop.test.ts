/**
 * Interop with real QEMU 7.2: streams we write (recode, encode after edits,
 * 4 -> 3 conversion) load back, edits show on the monitor, and a stream QEMU
 * writes now (a machine and device set not in the fixtures) decodes,
 * round-trips and analyzes. Skips with a printed reason when QEMU is absent.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { StreamReader, bytesSource } from "@vmstream/framing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { convert, decodeText, encode, fixture, recode, same } from "./qemu-helpers.js";
import { QemuMonitor, loadStream, qemuRelease, requirePeer, saveStream } from "@vmstream/peers";

const have = requirePeer("QEMU 7.2", qemuRelease("7.2"));

/** Load `file` into QEMU 7.2 and keep it up for the monitor; rejects with QEMU's message when it refuses. */
async function loaded(args: string[], file: string): Promise<QemuMonitor> {
  const r = await loadStream("7.2", args, file, [], { keep: true });
  if (!r.ok) throw new Error(r.error);
  return r.monitor;
}
const dir = mkdtempSync(join(tmpdir(), "vmstream-qemu-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!have)("QEMU 7.2 interop", () => {
  test("recode and 3->4->3 output of a real stream load back (paused (prelaunch))", async () => {
    const orig = fixture("pc-7.2-stopped.mig")!;
    const out = await convert(await convert(await recode(orig), "3", "4"), "4", "3");
    expect(same(out, orig)).toBe(true);
    const f = join(dir, "recoded.mig");
    writeFileSync(f, out);
    const q = await loaded(["-M", "pc-i440fx-7.2", "-m", "32"], f);
    try {
      expect(await q.cmd("info status")).toMatch(/VM status: paused \(prelaunch\)/);
    } finally {
      await q.quit();
    }
    // The control: the same bytes with a wrong footer id are refused by QEMU as by verify.
    const s = (await qemuCodec.inspect(StreamReader.of(out), "3", {})).json as QemuSummary;
    const g = s.sections.find((x) => x.idstr === "globalstate")!;
    const bad = out.slice();
    bad[g.offset + g.size - 1]! ^= 1;
    await expect(qemuCodec.verify(StreamReader.of(bad), "3", {})).rejects.toMatchObject({ offset: g.offset + g.size - 4 });
    const fb = join(dir, "bad-footer.mig");
    writeFileSync(fb, bad);
    await expect(loaded(["-M", "pc-i440fx-7.2", "-m", "32"], fb)).rejects.toThrow(/Mismatched section id in footer for globalstate/);
  });

  test("a fresh q35 stream: decode, edit RAM bytes and RAX, encode, load; the monitor shows the edits", async () => {
    const pattern = new Uint8Array(8192);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7 + 3) & 0xff;
    const pat = join(dir, "pattern.bin");
    writeFileSync(pat, pattern);
    const machine = ["-M", "pc-q35-7.2", "-m", "64", "-device", "virtio-rng-pci", "-device", "e1000e", "-device", "usb-ehci"];
    const src = join(dir, "fresh.mig");
    await saveStream("7.2", [...machine, "-S", "-device", `loader,file=${pat},addr=0x200000,force-raw=on`], src);
    const bytes = new Uint8Array(readFileSync(src));

    // The stream QEMU just wrote: verify, recode, decode/encode and 3->4->3 are exact.
    await qemuCodec.verify(StreamReader.of(bytes), "3", {});
    expect(same(await recode(bytes), bytes)).toBe(true);
    expect(same(await convert(await convert(bytes, "3", "4"), "4", "3"), bytes)).toBe(true);
    const analyzed = await qemuCodec.inspect(StreamReader.of(bytes), "3", { view: "analyze" });
    const keys = Object.keys(analyzed.json as object);
    expect(keys.some((k) => /\/e1000e \(\d+\)$/.test(k))).toBe(true);
    expect(keys.some((k) => /^cpu \(\d+\)$/.test(k))).toBe(true);

    const doc = JSON.parse(await decodeText(bytes));
    expect(same(await encode(doc), bytes)).toBe(true);
    // Find the page the loader filled: block pc.ram, offset 0x200000 (the name may come from an earlier record).
    let block = "";
    let page: { data: string } | null = null;
    for (const item of doc.stream) {
      for (const r of item.ram ?? []) {
        if (r.block) block = r.block;
        if (block === "pc.ram" && r.addr === String(0x200000) && r.flags & 8) page = r;
      }
    }
    expect(page).not.toBeNull();
    const data = Buffer.from(page!.data, "base64");
    expect(same(data, pattern.subarray(0, 4096))).toBe(true);
    data.set([0xde, 0xad, 0xbe, 0xef], 0);
    page!.data = data.toString("base64");
    const cpu = doc.stream.find((x: { idstr?: string }) => x.idstr === "cpu");
    cpu.state["env.regs"][0] = String(0x12345678);
    const edited = join(dir, "edited.mig");
    writeFileSync(edited, await encode(doc));

    const q = await loaded(machine, edited);
    try {
      expect(await q.cmd("info status")).toMatch(/paused \(prelaunch\)/);
      expect(await q.cmd("xp /8xb 0x200000")).toMatch(/0*200000: 0xde 0xad 0xbe 0xef 0x1f 0x26 0x2d 0x34/);
      expect(await q.cmd("info registers")).toMatch(/EAX=12345678/);
    } finally {
      await q.quit();
    }
  });

  const old = fixture("pc-2.0-old.mig");
  test("pc-2.0 (no vmdesc, no footers) parsed with the vmdesc of a sibling QEMU writes with suppress-vmdesc=off", async () => {
    const sib = join(dir, "sibling.mig");
    await saveStream("7.2", ["-M", "pc-i440fx-2.0,suppress-vmdesc=off", "-m", "32", "-device", "rtl8139", "-device", "piix3-usb-uhci"], sib);
    const sibBytes = new Uint8Array(readFileSync(sib));
    const opts = { schema: async () => new StreamReader(bytesSource(sibBytes)) };
    const without = (await qemuCodec.inspect(StreamReader.of(old!), "3", {})).json as QemuSummary;
    const withSchema = (await qemuCodec.inspect(StreamReader.of(old!), "3", opts)).json as QemuSummary;
    const parsed = (s: QemuSummary) => s.sections.filter((x) => x.body === "state").length;
    expect(parsed(without)).toBe(0);
    expect(parsed(withSchema)).toBeGreaterThan(20);
    expect(withSchema.sections.map((x) => [x.offset, x.size])).toEqual(without.sections.map((x) => [x.offset, x.size]));
    expect(same(await recode(old!, "3", opts), old!)).toBe(true);
    const doc = JSON.parse(await decodeText(old!, "3", opts));
    expect(typeof doc.schemaVmdesc).toBe("string");
    expect(same(await encode(doc), old!)).toBe(true);
  });
});

describe.skipIf(!have)("QEMU 7.2 interop: a running, bandwidth-limited guest", () => {
  test("PART sections continue the block named in an earlier section; the stream round-trips and reloads running", async () => {
    const f = join(dir, "running.mig");
    const q = await QemuMonitor.launch("7.2", ["-M", "pc-i440fx-7.2", "-m", "16"]);
    try {
      await q.cmd("migrate_set_parameter max-bandwidth 1M");
      await q.cmd("migrate_set_parameter downtime-limit 1");
      await q.cmd(`migrate "exec:cat > ${f}"`);
      await q.waitFor("info migrate", (o) => /Migration status: (completed|failed)/.test(o), 60_000);
    } finally {
      await q.quit();
    }
    const bytes = new Uint8Array(readFileSync(f));
    const doc = JSON.parse(await decodeText(bytes));
    const parts = doc.stream.filter((x: { section?: string }) => x.section === "part");
    expect(parts.length).toBeGreaterThanOrEqual(2);
    // QEMU keeps the last block across sections: some PART starts with a CONTINUE record (flag 0x20), no name.
    expect(parts.some((p: { ram: { flags: number; block?: string }[] }) => p.ram[0]!.flags & 0x20 && p.ram[0]!.block === undefined)).toBe(true);
    expect(same(await encode(doc), bytes)).toBe(true);
    expect(same(await recode(bytes), bytes)).toBe(true);
    const out = join(dir, "running-recoded.mig");
    writeFileSync(out, await convert(await convert(bytes, "3", "4"), "4", "3"));
    const l = await loaded(["-M", "pc-i440fx-7.2", "-m", "16"], out);
    try {
      expect(await l.cmd("info status")).toMatch(/VM status: running/);
    } finally {
      await l.quit();
    }
  });
});

describe.skipIf(!have)("QEMU 7.2 interop: capability streams", () => {
  /** Load through `-incoming defer` so the destination can turn the capability on first. */
  async function loadWith(args: string[], caps: string[], file: string): Promise<string> {
    const r = await loadStream("7.2", args, file, caps);
    if (!r.ok) throw new Error(r.error);
    return r.status;
  }

  for (const [name, caps] of [
    ["pc-7.2-compress.mig", ["compress"]],
    ["pc-7.2-postcopy.mig", ["postcopy-ram"]],
  ] as const) {
    const b = fixture(name);
    test(`${name} recoded loads with its capability`, async () => {
      const out = await recode(b!);
      expect(same(out, b!)).toBe(true);
      const f = join(dir, `re-${name}`);
      writeFileSync(f, out);
      expect(await loadWith(["-M", "pc-i440fx-7.2", "-m", "32"], [...caps], f)).toMatch(/VM status: (paused \(prelaunch\)|running)/);
    });
  }
});
