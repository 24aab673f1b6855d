/**
 * Golden vectors transcribed from QEMU 7.2's tests/unit/test-vmstate.c (the
 * byte arrays are QEMU's, the descriptions restate its VMSTATE_* macros).
 * Each wire vector ends with QEMU_VM_EOF, as in the C file, so a loader that
 * over-reads is caught; truncated copies must fail like QEMU's load_vmstate().
 */
import { ByteReader, WireError } from "@vmstream/framing";
import { describe, expect, test } from "vitest";
import { defineVmsd, loadState, saveState, type State, type Vmsd } from "../../src/schema/index.js";

const EOF = 0x00;

function loadVector(schema: Vmsd, wire: number[], opts: { version?: number; current?: State } = {}): State {
  const r = new ByteReader(Uint8Array.from(wire));
  const v = loadState(schema, r, opts);
  // Exactly the EOF byte is left, as QEMU's tests check with qemu_get_byte.
  expect(r.remaining).toBe(1);
  expect(r.u8()).toBe(EOF);
  return v;
}

/** load_vmstate(): length 0, size-2, the first half and the second half all fail. */
function expectTruncationsFail(schema: Vmsd, wire: number[], opts: { version?: number; current?: State } = {}): void {
  const b = Uint8Array.from(wire);
  const size = b.length;
  const cuts = [b.subarray(0, 0)];
  if (size > 3) cuts.push(b.subarray(0, size - 2), b.subarray(0, size >> 1), b.subarray(size >> 1, (size >> 1) * 2));
  for (const cut of cuts) {
    expect(() => loadState(schema, new ByteReader(cut), opts), `cut of ${cut.length}`).toThrow(WireError);
  }
}

const withEof = (wire: number[]) => [...wire, EOF];
const saved = (schema: Vmsd, v: State) => [...saveState(schema, v)];

describe("/vmstate/simple/primitive", () => {
  const schema = defineVmsd({
    name: "simple/primitive",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "b_1", type: "bool" },
      { name: "b_2", type: "bool" },
      { name: "u8_1", type: "uint8" },
      { name: "u16_1", type: "uint16" },
      { name: "u32_1", type: "uint32" },
      { name: "u64_1", type: "uint64" },
      { name: "i8_1", type: "int8" },
      { name: "i8_2", type: "int8" },
      { name: "i16_1", type: "int16" },
      { name: "i16_2", type: "int16" },
      { name: "i32_1", type: "int32" },
      { name: "i32_2", type: "int32" },
      { name: "i64_1", type: "int64" },
      { name: "i64_2", type: "int64" },
    ],
  });
  const obj = {
    b_1: true,
    b_2: false,
    u8_1: 130,
    u16_1: 512,
    u32_1: 70000,
    u64_1: 12121212n,
    i8_1: 65,
    i8_2: -65,
    i16_1: 512,
    i16_2: -512,
    i32_1: 70000,
    i32_2: -70000,
    i64_1: 12121212n,
    i64_2: -12121212n,
  };
  // wire_simple_primitive[]
  const wire = [
    0x01, 0x00, 0x82, 0x02, 0x00, 0x00, 0x01, 0x11, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4, 0x7c, 0x41, 0xbf,
    0x02, 0x00, 0xfe, 0x0, 0x00, 0x01, 0x11, 0x70, 0xff, 0xfe, 0xee, 0x90, 0x00, 0x00, 0x00, 0x00, 0x00, 0xb8, 0xf4,
    0x7c, 0xff, 0xff, 0xff, 0xff, 0xff, 0x47, 0x0b, 0x84, EOF,
  ];
  test("save", () => expect(withEof(saved(schema, obj))).toEqual(wire));
  test("load", () => expect(loadVector(schema, wire, { version: 1 })).toEqual(obj));
  test("truncated loads fail", () => expectTruncationsFail(schema, wire, { version: 1 }));
});

describe("/vmstate/simple/array", () => {
  const schema = defineVmsd({
    name: "simple/array",
    version: 1,
    minimumVersion: 1,
    fields: [{ name: "u16_1", type: "uint16", num: 3 }],
  });
  const wire = [0x00, 0x42, 0x00, 0x43, 0x00, 0x44, EOF];
  test("save", () => expect(withEof(saved(schema, { u16_1: [0x42, 0x43, 0x44] }))).toEqual(wire));
  test("load", () => expect(loadVector(schema, wire)).toEqual({ u16_1: [0x42, 0x43, 0x44] }));
  test("truncated loads fail", () => expectTruncationsFail(schema, wire));
});

describe("/vmstate/versioned", () => {
  const schema = defineVmsd({
    name: "test/versioned",
    version: 2,
    minimumVersion: 1,
    fields: [
      { name: "a", type: "uint32" },
      { name: "b", type: "uint32", version: 2 },
      { name: "c", type: "uint32" },
      { name: "d", type: "uint64" },
      { name: "e", type: "uint32", version: 2 },
      { name: "f", type: "uint64", version: 2 },
    ],
  });
  test("load/v1 keeps the destination's b, e, f", () => {
    const wire = [0, 0, 0, 10, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 40, EOF];
    const v = loadVector(schema, wire, { version: 1, current: { b: 200, e: 500, f: 600n } });
    expect(v).toEqual({ a: 10, b: 200, c: 30, d: 40n, e: 500, f: 600n });
  });
  test("load/v2", () => {
    const wire = [0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 60, EOF];
    expect(loadVector(schema, wire, { version: 2 })).toEqual({ a: 10, b: 20, c: 30, d: 40n, e: 50, f: 60n });
  });
  test("version 3 is too new, 0 too old", () => {
    expect(() => loadState(schema, new Uint8Array(40), { version: 3 })).toThrow(/too new/);
    expect(() => loadState(schema, new Uint8Array(40), { version: 0 })).toThrow(/too old/);
  });
});

describe("/vmstate/field_exists", () => {
  const skip = (s: State) => !s.skip_c_e;
  const schema = defineVmsd({
    name: "test/skip",
    version: 2,
    minimumVersion: 1,
    fields: [
      { name: "a", type: "uint32" },
      { name: "b", type: "uint32" },
      { name: "c", type: "uint32", exists: skip },
      { name: "d", type: "uint64" },
      { name: "e", type: "uint32", exists: skip },
      { name: "f", type: "uint64", version: 2 },
    ],
  });
  const all = { a: 1, b: 2, c: 3, d: 4n, e: 5, f: 6n };
  test("save/noskip", () =>
    expect(saved(schema, { ...all, skip_c_e: false })).toEqual([
      0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6,
    ]));
  test("save/skip", () =>
    expect(saved(schema, { ...all, skip_c_e: true })).toEqual([
      0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 6,
    ]));
  test("load/noskip", () => {
    const wire = [0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 0, 60, EOF];
    expect(loadVector(schema, wire, { version: 2, current: { skip_c_e: false } })).toEqual({
      skip_c_e: false,
      a: 10,
      b: 20,
      c: 30,
      d: 40n,
      e: 50,
      f: 60n,
    });
  });
  test("load/skip", () => {
    const wire = [0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 0, 0, 0, 0, 60, EOF];
    expect(loadVector(schema, wire, { version: 2, current: { skip_c_e: true, c: 300, e: 500 } })).toEqual({
      skip_c_e: true,
      a: 10,
      b: 20,
      c: 300,
      d: 40n,
      e: 500,
      f: 60n,
    });
  });
});

describe("/vmstate/array/ptr", () => {
  const tst = defineVmsd({ name: "test/tst", version: 1, minimumVersion: 1, fields: [{ name: "i", type: "int32" }] });
  const arps = defineVmsd({
    name: "test/arps",
    version: 1,
    minimumVersion: 1,
    fields: [{ name: "ar", type: "struct", vmsd: tst, num: 4, pointers: true }],
  });
  const arpp = defineVmsd({
    name: "test/arps",
    version: 1,
    minimumVersion: 1,
    fields: [{ name: "ar", type: "int32", num: 4, pointers: true }],
  });
  const wireNo0 = [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, EOF];
  const wire0 = [0, 0, 0, 0, 0x30, 0, 0, 0, 2, 0, 0, 0, 3, EOF];
  const four = [{ i: 0 }, { i: 1 }, { i: 2 }, { i: 3 }];
  test("str/no0/save", () => expect(withEof(saved(arps, { ar: four }))).toEqual(wireNo0));
  test("str/no0/load", () => expect(loadVector(arps, wireNo0, { version: 1 })).toEqual({ ar: four }));
  test("str/0/save", () => expect(withEof(saved(arps, { ar: [{ i: 0 }, null, { i: 2 }, { i: 3 }] }))).toEqual(wire0));
  test("str/0/load", () => {
    const current = { ar: [{ i: 0 }, null, { i: 0 }, { i: 0 }] };
    expect(loadVector(arps, wire0, { version: 1, current })).toEqual({ ar: [{ i: 0 }, null, { i: 2 }, { i: 3 }] });
  });
  test("prim/0/save", () => expect(withEof(saved(arpp, { ar: [0, null, 2, 3] }))).toEqual(wire0));
  test("prim/0/load", () => {
    expect(loadVector(arpp, wire0, { version: 1, current: { ar: [3, null, 1, 0] } })).toEqual({ ar: [0, null, 2, 3] });
  });
  test("a destination without the NULL misreads the marker, as QEMU would", () => {
    // Element 1 then swallows 0x30 00 00 00, and element 3 runs out of bytes.
    expect(() => loadState(arpp, new ByteReader(Uint8Array.from(wire0.slice(0, -1))), { version: 1 })).toThrow(WireError);
  });
  test("a non-marker byte where the destination has NULL is an error at its offset", () => {
    const bad = Uint8Array.from([0, 0, 0, 0, 0x31, 0, 0, 0, 2, 0, 0, 0, 3]);
    try {
      loadState(arpp, bad, { current: { ar: [0, null, 0, 0] } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect((e as WireError).offset).toBe(4);
      expect((e as WireError).path).toBe("test/arps/ar[1]");
    }
  });
});

describe("/vmstate/qtailq", () => {
  const element = defineVmsd({
    name: "test/queue-element",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "b", type: "bool" },
      { name: "u8", type: "uint8" },
    ],
  });
  const q = defineVmsd({
    name: "test/queue",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "i16", type: "int16" },
      { name: "q", type: "qtailq", version: 1, vmsd: element },
      { name: "i32", type: "int32" },
    ],
  });
  const wire = [0xfe, 0x0, 0x01, 0x01, 0x82, 0x01, 0x00, 0x41, 0x00, 0x00, 0x01, 0x11, 0x70, EOF];
  const obj = { i16: -512, q: [{ b: true, u8: 130 }, { b: false, u8: 65 }], i32: 70000 };
  test("save/saveq", () => expect(withEof(saved(q, obj))).toEqual(wire));
  test("load/loadq", () => expect(loadVector(q, wire, { version: 1 })).toEqual(obj));
  test("a list cut before its end marker fails", () => {
    // (QEMU runs no truncation checks here: the second half of wire_q happens to parse.)
    expect(() => loadState(q, Uint8Array.from(wire.slice(0, 8)))).toThrow(/truncated/);
  });
});

describe("/vmstate/gtree", () => {
  const interval = defineVmsd({
    name: "interval",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "low", type: "uint64" },
      { name: "high", type: "uint64" },
    ],
  });
  const mapping = defineVmsd({
    name: "mapping",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "phys_addr", type: "uint64" },
      { name: "flags", type: "uint32" },
    ],
  });
  const domain = defineVmsd({
    name: "domain",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "id", type: "int32" },
      { name: "mappings", type: "gtree", version: 1, vmsd: mapping, keyVmsd: interval },
    ],
  });
  const iommu = defineVmsd({
    name: "iommu",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "id", type: "int32" },
      { name: "domains", type: "gtree", version: 1, vmsd: domain },
    ],
  });
  const firstDomain = {
    id: 6,
    mappings: [
      { key: { low: 0x1000n, high: 0x1fffn }, value: { phys_addr: 0xa000n, flags: 1 } },
      { key: { low: 0x4000n, high: 0x4fffn }, value: { phys_addr: 0xe0000n, flags: 2 } },
    ],
  };
  const u64 = (hi: number, lo: number) => [hi >>> 24, (hi >>> 16) & 255, (hi >>> 8) & 255, hi & 255, lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255];
  // first_domain_dump[]
  const domainBody = [
    0x00, 0x0, 0x0, 0x6, 0x00, 0x0, 0x0, 0x2, 0x1, ...u64(0, 0x1000), ...u64(0, 0x1fff), ...u64(0, 0xa000), 0, 0, 0, 1,
    0x1, ...u64(0, 0x4000), ...u64(0, 0x4fff), ...u64(0, 0xe0000), 0, 0, 0, 2, 0x0,
  ];
  const firstDomainDump = [...domainBody, EOF];
  // iommu_dump[]
  const iommuDump = [
    0x00, 0x0, 0x0, 0x7, 0x00, 0x0, 0x0, 0x2, 0x1, ...u64(0, 5), 0x00, 0x0, 0x0, 0x5, 0x00, 0x0, 0x0, 0x1, 0x1,
    ...u64(0, 0x1000000), ...u64(0, 0x1ffffff), ...u64(0, 0xf000000), 0x00, 0x0, 0x0, 0x3, 0x0, 0x1, ...u64(0, 6),
    ...domainBody, 0x0, EOF,
  ];
  const iommuValue = {
    id: 7,
    domains: [
      {
        key: 5n,
        value: {
          id: 5,
          mappings: [{ key: { low: 0x1000000n, high: 0x1ffffffn }, value: { phys_addr: 0xf000000n, flags: 3 } }],
        },
      },
      { key: 6n, value: firstDomain },
    ],
  };
  test("save/savedomain", () => expect(withEof(saved(domain, firstDomain))).toEqual(firstDomainDump));
  test("load/loaddomain", () => expect(loadVector(domain, firstDomainDump, { version: 1 })).toEqual(firstDomain));
  test("save/saveiommu", () => expect(withEof(saved(iommu, iommuValue))).toEqual(iommuDump));
  test("load/loadiommu", () => expect(loadVector(iommu, iommuDump, { version: 1 })).toEqual(iommuValue));
  test("a node count that disagrees with the nodes fails at the count", () => {
    const bad = [...domainBody];
    bad[7] = 3;
    try {
      loadState(domain, Uint8Array.from(bad));
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).offset).toBe(4);
    }
    bad[7] = 1;
    expect(() => loadState(domain, Uint8Array.from(bad))).toThrow(/more gtree nodes/);
  });
  test("truncated loads fail", () => expectTruncationsFail(iommu, iommuDump, { version: 1 }));
});

describe("/vmstate/qlist", () => {
  const element = defineVmsd({ name: "test/queue list", version: 1, minimumVersion: 1, fields: [{ name: "id", type: "uint32" }] });
  const container = defineVmsd({
    name: "test/container/qlist",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "id", type: "uint32" },
      { name: "list", type: "qlist", version: 1, vmsd: element },
    ],
  });
  // qlist_dump[]
  const wire = [0, 0, 0, 1, 0x1, 0, 0, 0, 0x0a, 0x1, 0, 0, 0x0b, 0, 0x1, 0, 0x0c, 0, 0, 0x1, 0x0d, 0, 0, 0, 0x0, EOF];
  const obj = { id: 1, list: [{ id: 0x0a }, { id: 0x0b00 }, { id: 0xc0000 }, { id: 0xd000000 }] };
  test("save/saveqlist", () => expect(withEof(saved(container, obj))).toEqual(wire));
  test("load/loadqlist", () => expect(loadVector(container, wire, { version: 1 })).toEqual(obj));
});

describe("/vmstate/tmp_struct", () => {
  const backToParent = defineVmsd({ name: "test/tmp_child_parent", fields: [{ name: "f", type: "uint64" }] });
  const tmpChild = defineVmsd({
    name: "test/tmp_child",
    fields: [
      { name: "diff", type: "int64" },
      { name: "parent", type: "struct", vmsd: backToParent },
    ],
  });
  const withTmp = defineVmsd({
    name: "test/with_tmp",
    version: 1,
    fields: [
      { name: "a", type: "uint32" },
      { name: "d", type: "uint64" },
      { name: "tmp", type: "tmp", vmsd: tmpChild },
    ],
  });
  const wire = [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 8, EOF];
  // pre_save computes diff = b - a = 4 - 2; here the state carries the tmp struct's value directly.
  const obj = { a: 2, d: 1n, tmp: { diff: 2n, parent: { f: 8n } } };
  test("save", () => expect(withEof(saved(withTmp, obj))).toEqual(wire));
  test("load", () => expect(loadVector(withTmp, wire, { version: 1 })).toEqual(obj));
  test("truncated loads fail", () => expectTruncationsFail(withTmp, wire, { version: 1 }));
});
