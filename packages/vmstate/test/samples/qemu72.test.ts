/**
 * Real QEMU 7.2 device sections against our restated descriptions: decode the
 * section payload, re-encode it byte for byte, and produce the same vmdesc
 * entry QEMU wrote into the stream's trailer. The excerpt fixture holds each
 * section's payload and its vmdesc entry cut from pc-7.2-netusb.mig; when the
 * full stream is present the sections are also found and read in place.
 */
import { readFileSync } from "node:fs";
import { ByteReader } from "@vmstream/framing";
import { describe, expect, test } from "vitest";
import { loadState, saveWithVmdesc } from "../../src/schema/index.js";
import { qemu72Devices } from "../../src/samples/qemu72.js";

interface Excerpt {
  idstr: string;
  sectionId: number;
  instanceId: number;
  version: number;
  payloadOffset: number;
  payload: string;
  footer: string;
  vmdesc: string;
  /** What the destination device already holds (fdc: its FIFO size and drive count). */
  current?: Record<string, unknown>;
}

const hex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
const excerpt = JSON.parse(
  readFileSync(new URL("../../../../fixtures/qemu/pc-7.2-netusb.sections.json", import.meta.url), "utf8"),
) as { sections: Excerpt[] };

describe("QEMU 7.2 device sections (pc-7.2-netusb.mig)", () => {
  for (const sec of excerpt.sections) {
    const schema = qemu72Devices[sec.idstr]!;
    test(`${sec.idstr} v${sec.version}: load, save byte-exact, vmdesc as QEMU wrote it`, () => {
      const payload = hex(sec.payload);
      const state = loadState(schema, payload, { version: sec.version, base: sec.payloadOffset, current: sec.current ?? {} });
      const { bytes, vmdesc } = saveWithVmdesc(schema, state, { idstr: sec.idstr, instanceId: sec.instanceId, version: sec.version });
      expect(bytes).toEqual(payload);
      expect(vmdesc).toBe(sec.vmdesc);
    });
  }

  test("what the sections hold", () => {
    const by = Object.fromEntries(excerpt.sections.map((s) => [s.idstr, s]));
    const fw = loadState(qemu72Devices.fw_cfg!, hex(by.fw_cfg!.payload), { version: 2 });
    expect(Object.keys(fw)).toEqual(["cur_entry", "cur_offset[1]", "fw_cfg/dma", "fw_cfg/acpi_mr"]);
    const pit = loadState(qemu72Devices.i8254!, hex(by.i8254!.payload), { version: 3 });
    expect((pit.channels as unknown[]).length).toBe(3);
    const serial = loadState(qemu72Devices.serial!, hex(by.serial!.payload), { version: 3 });
    expect(Object.keys(serial.state as object)).toContain("fcr_vmstate");
    const fdc = loadState(qemu72Devices.fdc!, hex(by.fdc!.payload), { version: 2, current: { state: { fifo_size: 512, num_floppies: 2 } } });
    const drives = (fdc.state as Record<string, unknown>).drives as Record<string, unknown>[];
    expect(drives.map((d) => Object.keys(d))).toEqual([
      ["head", "track", "sect", "fdrive/media_rate"],
      ["head", "track", "sect", "fdrive/media_rate"],
    ]);
    // A destination with a different drive count refuses the stream (VMSTATE_UINT8_EQUAL).
    expect(() => loadState(qemu72Devices.fdc!, hex(by.fdc!.payload), { version: 2, current: { state: { fifo_size: 512, num_floppies: 1 } } })).toThrow(
      /num_floppies: value differs/,
    );
  });

  const full = new URL("../../../../fixtures/qemu/pc-7.2-netusb.mig", import.meta.url);
  test("in the full stream, each payload ends exactly at its section footer", () => {
    const stream = new Uint8Array(readFileSync(full));
    for (const sec of excerpt.sections) {
      const r = new ByteReader(stream);
      r.pos = sec.payloadOffset;
      loadState(qemu72Devices[sec.idstr]!, r, { version: sec.version, current: sec.current ?? {} });
      expect(r.u8()).toBe(0x7e);
      expect(r.u32be()).toBe(sec.sectionId);
    }
  });
});

describe("dumpVmstate of the restated descriptions equals QEMU 7.2's -dump-vmstate", () => {
  const real = JSON.parse(readFileSync(new URL("../../../../fixtures/qemu/pc-7.2.vmstate.excerpt.json", import.meta.url), "utf8")).dump as Record<
    string,
    unknown
  >;
  const ours: [string, keyof typeof qemu72Devices][] = [
    ["fw_cfg_io", "fw_cfg"],
    ["mc146818rtc", "mc146818rtc"],
    ["isa-pit", "i8254"],
    ["isa-serial", "serial"],
    ["isa-fdc", "fdc"],
  ];
  for (const [type, key] of ours) {
    test(type, async () => {
      const { dumpVmstate, schemaDiff } = await import("../../src/checker/index.js");
      const mine = dumpVmstate(qemu72Devices[key]!, type);
      expect(mine).toEqual(real[type]);
      expect(schemaDiff({ [type]: real[type] }, { [type]: mine })).toEqual([]);
    });
  }
});
