/**
 * The interpreter and the stream codec must agree on formats 3 and 4: bytes
 * saved from a description, walked with the stream codec's vmdesc-driven
 * description (the interpreter run on the vmdesc entry we wrote for them, with
 * document values) are consumed exactly.
 */
import { fc, test } from "@fast-check/vitest";
import { ByteReader } from "@vmstream/framing";
import { arbitraryState, propertyParams } from "@vmstream/testing";
import { describe, expect } from "vitest";
import { defineVmsd, saveWithVmdesc, type State, type Vmsd } from "../../src/schema/index.js";
import { compileVmdesc, loadDocument } from "../../src/stream/index.js";
import { qemu72Devices, sampleDevices, sampleReleases } from "../../src/samples/index.js";

function walkWithOwnVmdesc(schema: Vmsd, state: State, format: 3 | 4): void {
  const { bytes, vmdesc } = saveWithVmdesc(schema, state, { idstr: schema.name, format });
  const text = `{"page_size": 4096, "devices": [${vmdesc}]}`;
  const plan = [...compileVmdesc(JSON.parse(text), text, 0).devices.values()][0]!.plan;
  const r = new ByteReader(bytes);
  loadDocument(plan, r, format === 4);
  expect(r.remaining).toBe(0);
}

describe("interpreter bytes read back by the stream codec's vmdesc walker", () => {
  const params = propertyParams(30) as { numRuns?: number; seed?: number };
  for (const d of sampleDevices) {
    for (const { release, schema } of sampleReleases(d)) {
      test.prop([arbitraryState(schema), fc.constantFrom(3 as const, 4 as const)], params)(`${d.name} release ${release}`, (state, format) => {
        walkWithOwnVmdesc(schema, state, format);
      });
    }
  }
  // Every nesting the walker can follow from vmdesc alone: struct arrays whose
  // elements have subsections, vstruct and tmp bodies written inline, nested subsections.
  const leaf = defineVmsd({
    name: "n/leaf",
    version: 2,
    minimumVersion: 1,
    fields: [{ name: "x", type: "uint16" }, { name: "y", type: "int64", version: 2 }],
    subsections: [defineVmsd({ name: "n/leaf/s", version: 1, minimumVersion: 1, fields: [{ name: "z", type: "uint8" }] })],
  });
  const nested = defineVmsd({
    name: "n",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "arr", type: "struct", vmsd: leaf, num: 3 },
      { name: "v", type: "vstruct", vmsd: leaf, structVersion: 1 },
      { name: "t", type: "tmp", vmsd: defineVmsd({ name: "n/tmp", fields: [{ name: "q", type: "uint32" }] }) },
      { name: "buf", type: "buffer", size: 3 },
    ],
    subsections: [defineVmsd({ name: "n/sub", version: 1, minimumVersion: 1, fields: [{ name: "inner", type: "struct", vmsd: leaf }] })],
  });
  test.prop([arbitraryState(nested), fc.constantFrom(3 as const, 4 as const)], params)("nested structs, vstruct, tmp and subsections", (state, format) => {
    walkWithOwnVmdesc(nested, state, format);
  });
  test.prop([fc.constantFrom(3 as const, 4 as const)], { numRuns: 2 })("QEMU 7.2 descriptions with a typical state", (format) => {
    const rtc = qemu72Devices.mc146818rtc!;
    walkWithOwnVmdesc(
      rtc,
      {
        cmos_data: new Uint8Array(128),
        cmos_index: 0,
        "unused[0]": new Uint8Array(28),
        periodic_timer: -1n,
        next_periodic_time: 0n,
        "unused[1]": new Uint8Array(24),
        irq_coalesced: 0,
        period: 0,
        base_rtc: 1n,
        last_update: 2n,
        offset: 3n,
        update_timer: -1n,
        next_alarm_time: 4n,
        "mc146818rtc/irq_reinject_on_ack_count": { irq_reinject_on_ack_count: 1 },
      },
      format,
    );
  });
});
