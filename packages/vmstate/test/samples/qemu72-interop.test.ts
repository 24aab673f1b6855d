/**
 * The interpreter's bytes, accepted by real QEMU 7.2: decode the RTC section
 * of a real stream with the restated mc146818rtc description, change two
 * CMOS RAM bytes, save, splice the section back and load the stream into
 * qemu-system-x86_64; the monitor then reads our bytes through the RTC's
 * index/data ports (0x70/0x71). Skips with a printed reason without QEMU.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ByteReader } from "@vmstream/framing";
import { afterAll, describe, expect, test } from "vitest";
import { fixture } from "../qemu-helpers.js";
import { loadStream, qemuRelease, requirePeer } from "@vmstream/peers";
import { loadState, saveState } from "../../src/schema/index.js";
import { mc146818rtc } from "../../src/samples/qemu72.js";

const have = requirePeer("QEMU 7.2", qemuRelease("7.2"));

/** Offset of a FULL section's payload, found by its idstr, with its version. */
function findSection(stream: Uint8Array, idstr: string): { payload: number; version: number; id: number } {
  const name = [...idstr].map((c) => c.charCodeAt(0));
  for (let i = 5; i + 1 + name.length + 8 < stream.length; i++) {
    if (stream[i] !== name.length || stream[i - 5] !== 0x04) continue;
    if (!name.every((b, k) => stream[i + 1 + k] === b)) continue;
    const r = new ByteReader(stream);
    r.pos = i - 4;
    const id = r.u32be();
    r.pos = i + 1 + name.length + 4;
    return { id, version: r.u32be(), payload: r.pos };
  }
  throw new Error(`no section ${idstr}`);
}

const dir = mkdtempSync(join(tmpdir(), "vmstate-rtc-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!have)("QEMU 7.2 loads what the interpreter saves", () => {
  test("edited CMOS bytes in mc146818rtc show on ports 0x70/0x71", async () => {
    const stream = fixture("pc-7.2-stopped.mig")!;
    const sec = findSection(stream, "mc146818rtc");
    const r = new ByteReader(stream);
    r.pos = sec.payload;
    const state = loadState(mc146818rtc, r, { version: sec.version });
    const end = r.pos;
    expect(stream[end]).toBe(0x7e); // the section footer follows exactly
    const cmos = (state.cmos_data as Uint8Array).slice();
    expect([cmos[0x38], cmos[0x39]]).not.toEqual([0x5a, 0xa5]); // so the check below can fail
    cmos[0x38] = 0x5a;
    cmos[0x39] = 0xa5;
    const bytes = saveState(mc146818rtc, { ...state, cmos_data: cmos }, { version: sec.version });
    expect(bytes.length).toBe(end - sec.payload);
    const edited = stream.slice();
    edited.set(bytes, sec.payload);
    const file = join(dir, "rtc.mig");
    writeFileSync(file, edited);
    const load = await loadStream("7.2", ["-M", "pc-i440fx-7.2", "-m", "32"], file, [], { keep: true });
    expect(load.ok, load.error).toBe(true);
    const q = load.monitor;
    try {
      expect(await q.cmd("info status")).toMatch(/paused \(prelaunch\)/);
      await q.cmd("o /b 0x70 0x38");
      expect(await q.cmd("i /b 0x71")).toMatch(/portb\[0x0071\] = 0x5a/);
      await q.cmd("o /b 0x70 0x39");
      expect(await q.cmd("i /b 0x71")).toMatch(/portb\[0x0071\] = 0xa5/);
    } finally {
      await q.quit();
    }
  }, 60_000);
});
