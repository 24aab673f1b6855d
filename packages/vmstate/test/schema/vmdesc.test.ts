/**
 * vmdesc entries as QEMU 7.2 writes them (migration/vmstate.c vmsd_desc_field_*
 * and qobject/json-writer.c). Expected strings are written out by hand from
 * those rules; the real-stream comparisons are in samples/qemu72.test.ts.
 */
import { describe, expect, test } from "vitest";
import { defineVmsd, quote, QemuJsonWriter, saveWithVmdesc } from "../../src/schema/index.js";

describe("QEMU's compact JSON writer", () => {
  test("separators and nesting", () => {
    const j = new QemuJsonWriter();
    j.startObject();
    j.int("page_size", 4096);
    j.startArray("devices");
    j.startObject();
    j.str("name", "x");
    j.endObject();
    j.startObject();
    j.endObject();
    j.endArray();
    j.endObject();
    expect(j.text).toBe('{"page_size": 4096, "devices": [{"name": "x"}, {}]}');
  });
  test("string escapes: short forms, uppercase \\u, surrogate pairs", () => {
    expect(quote('a"b\\c\b\f\n\r\t')).toBe('"a\\"b\\\\c\\b\\f\\n\\r\\t"');
    expect(quote("\u0001\u007f\u00e9")).toBe('"\\u0001\\u007F\\u00E9"');
    expect(quote("\u{1F600}")).toBe('"\\uD83D\\uDE00"');
  });
});

describe("vmdesc field entries", () => {
  const tst = defineVmsd({ name: "test/tst", version: 1, minimumVersion: 1, fields: [{ name: "i", type: "int32" }] });
  test("a NULL first element of a compressed array of pointers: original type, size 1, empty struct", () => {
    const arps = defineVmsd({
      name: "test/arps",
      version: 1,
      minimumVersion: 1,
      fields: [{ name: "ar", type: "struct", vmsd: tst, num: 4, pointers: true }],
    });
    const { vmdesc } = saveWithVmdesc(arps, { ar: [null, { i: 1 }, { i: 2 }, null] }, { idstr: "arps" });
    expect(vmdesc).toBe(
      '{"name": "arps", "instance_id": 0, "vmsd_name": "test/arps", "version": 1, "fields": [' +
        '{"name": "ar", "array_len": 4, "type": "struct", "struct": {}, "size": 1}]}',
    );
  });
  test("tmp writes its description inline (no \"struct\" child)", () => {
    const parent = defineVmsd({ name: "test/tmp_child_parent", fields: [{ name: "f", type: "uint64" }] });
    const child = defineVmsd({
      name: "test/tmp_child",
      fields: [
        { name: "diff", type: "int64" },
        { name: "parent", type: "struct", vmsd: parent },
      ],
    });
    const withTmp = defineVmsd({
      name: "test/with_tmp",
      version: 1,
      fields: [
        { name: "a", type: "uint32" },
        { name: "tmp", type: "tmp", vmsd: child },
      ],
    });
    const { vmdesc } = saveWithVmdesc(withTmp, { a: 1, tmp: { diff: 2n, parent: { f: 3n } } }, { idstr: "t", instanceId: 2 });
    expect(vmdesc).toBe(
      '{"name": "t", "instance_id": 2, "vmsd_name": "test/with_tmp", "version": 1, "fields": [' +
        '{"name": "a", "type": "uint32", "size": 4}, ' +
        '{"name": "tmp", "type": "tmp", "vmsd_name": "test/tmp_child", "version": 0, "fields": [' +
        '{"name": "diff", "type": "int64", "size": 8}, ' +
        '{"name": "parent", "type": "struct", "struct": {"vmsd_name": "test/tmp_child_parent", "version": 0, "fields": [' +
        '{"name": "f", "type": "uint64", "size": 8}]}, "size": 8}], "size": 16}]}',
    );
  });
  test("qtailq elements repeat their keys inside the field's object", () => {
    const el = defineVmsd({ name: "el", version: 1, minimumVersion: 1, fields: [{ name: "u8", type: "uint8" }] });
    const q = defineVmsd({ name: "q", version: 1, minimumVersion: 1, fields: [{ name: "l", type: "qtailq", vmsd: el, version: 1 }] });
    const { vmdesc } = saveWithVmdesc(q, { l: [{ u8: 1 }, { u8: 2 }] }, { idstr: "q" });
    const elem = '"vmsd_name": "el", "version": 1, "fields": [{"name": "u8", "type": "uint8", "size": 1}]';
    expect(vmdesc).toBe(
      `{"name": "q", "instance_id": 0, "vmsd_name": "q", "version": 1, "fields": [{"name": "l", "type": "qtailq", ${elem}, ${elem}, "size": 5}]}`,
    );
  });
  test("field_exists makes arrays uncompressible; duplicate names get [k]; absent fields have no entry", () => {
    const d = defineVmsd({
      name: "d",
      version: 2,
      minimumVersion: 1,
      fields: [
        { name: "x", type: "uint8", exists: (_s, v) => v === 1 },
        { name: "x", type: "uint16", version: 2 },
        { name: "a", type: "uint8", num: 2, exists: () => true },
        { name: "e", type: "uint8", num: 0 },
        { name: "one", type: "uint16", num: 1 },
      ],
    });
    const { vmdesc, bytes } = saveWithVmdesc(d, { x: 1, "x[1]": 7, a: [1, 2], e: [], one: [5] }, { idstr: "d" });
    expect([...bytes]).toEqual([0, 7, 1, 2, 0, 5]);
    expect(vmdesc).toBe(
      '{"name": "d", "instance_id": 0, "vmsd_name": "d", "version": 2, "fields": [' +
        '{"name": "x[1]", "type": "uint16", "size": 2}, ' +
        '{"name": "a", "index": 0, "type": "uint8", "size": 1}, {"name": "a", "index": 1, "type": "uint8", "size": 1}, ' +
        '{"name": "one", "type": "uint16", "size": 2}]}',
    );
  });
  test("subsections array only when one is sent; info names of the equal/le/double infos", () => {
    const d = defineVmsd({
      name: "dev",
      version: 1,
      minimumVersion: 1,
      fields: [
        { name: "a", type: "uint64_equal" },
        { name: "b", type: "int32_le" },
        { name: "c", type: "cpu_double" },
        { name: "p", type: "buffer", size: 2, info: "pci config" },
      ],
      subsections: [defineVmsd({ name: "dev/s", version: 3, fields: [{ name: "z", type: "bool" }] })],
    });
    const base = { a: 1n, b: 0, c: 1.5, p: Uint8Array.of(1, 2) };
    const fields =
      '"fields": [{"name": "a", "type": "int64 equal", "size": 8}, {"name": "b", "type": "int32 le", "size": 4}, ' +
      '{"name": "c", "type": "CPU_Double_U", "size": 8}, {"name": "p", "type": "pci config", "size": 2}]';
    expect(saveWithVmdesc(d, base, { idstr: "dev" }).vmdesc).toBe(`{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, ${fields}}`);
    expect(saveWithVmdesc(d, { ...base, "dev/s": { z: true } }, { idstr: "dev" }).vmdesc).toBe(
      `{"name": "dev", "instance_id": 0, "vmsd_name": "dev", "version": 1, ${fields}, ` +
        '"subsections": [{"vmsd_name": "dev/s", "version": 3, "fields": [{"name": "z", "type": "bool", "size": 1}]}]}',
    );
  });
});

describe("the docs/spec/vmstate.md example", () => {
  test("saves, loads back and describes itself", async () => {
    const { defineVmsd: def, loadState, saveState } = await import("../../src/schema/index.js");
    const fifo = def({ name: "uart/fifo", version: 1, minimumVersion: 1,
      fields: [{ name: "level", type: "uint8" }, { name: "data", type: "uint8", num: 16 }] });
    const uart = def({ name: "uart", version: 2, minimumVersion: 1,
      fields: [{ name: "lcr", type: "uint8" }, { name: "timer", type: "timer", version: 2 }],
      subsections: [fifo] });
    const value = { lcr: 3, timer: -1n, "uart/fifo": { level: 0, data: new Array(16).fill(0) } };
    const bytes = saveState(uart, value);
    expect(bytes.length).toBe(1 + 8 + 1 + 1 + 9 + 4 + 1 + 16);
    const state = loadState(uart, bytes, { version: 2 });
    expect(state).toEqual(value);
    const { vmdesc } = saveWithVmdesc(uart, state, { idstr: "uart" });
    expect(vmdesc).toBe(
      '{"name": "uart", "instance_id": 0, "vmsd_name": "uart", "version": 2, "fields": [{"name": "lcr", "type": "uint8", "size": 1}, ' +
        '{"name": "timer", "type": "timer", "size": 8}], "subsections": [{"vmsd_name": "uart/fifo", "version": 1, "fields": [' +
        '{"name": "level", "type": "uint8", "size": 1}, {"name": "data", "array_len": 16, "type": "uint8", "size": 1}]}]}',
    );
  });
});
