/**
 * Properties over every field kind and over the sample devices, with states
 * from @vmstream/testing's arbitraryState (derived from the same schemas).
 */
import { fc, test } from "@fast-check/vitest";
import { ByteReader, WireError } from "@vmstream/framing";
import { arbitraryState, propertyParams } from "@vmstream/testing";
import { describe, expect } from "vitest";
import { sampleDevices, sampleReleases } from "../../src/samples/index.js";
import { defineVmsd, loadState, saveState, type State } from "../../src/schema/index.js";

const leaf = defineVmsd({
  name: "sink/leaf",
  version: 2,
  minimumVersion: 1,
  fields: [
    { name: "x", type: "uint16" },
    { name: "y", type: "int64", version: 2 },
  ],
  subsections: [defineVmsd({ name: "sink/leaf/extra", version: 3, minimumVersion: 1, fields: [{ name: "z", type: "uint8" }] })],
});

const key = defineVmsd({ name: "sink/key", version: 1, minimumVersion: 1, fields: [{ name: "k", type: "uint32" }] });
// get_gtree loads key and value at field->version_id, put_gtree saves each at its own version: they must agree.
const key2 = defineVmsd({ name: "sink/key2", version: 2, minimumVersion: 1, fields: [{ name: "k", type: "uint32" }] });
const tmp = defineVmsd({ name: "sink/tmp", version: 0, fields: [{ name: "t", type: "int16" }] });

/** One description using every field kind the interpreter knows. */
const sink = defineVmsd({
  name: "sink",
  version: 3,
  minimumVersion: 1,
  fields: [
    { name: "b", type: "bool" },
    { name: "i8", type: "int8" },
    { name: "u32", type: "uint32" },
    { name: "u64", type: "uint64" },
    { name: "eq", type: "int32_equal", expect: 7 },
    { name: "eq8", type: "uint8_equal", expect: 1 },
    { name: "eq16", type: "uint16_equal", expect: 2 },
    { name: "eq32", type: "uint32_equal", expect: 3 },
    { name: "eq64", type: "uint64_equal", expect: 4n },
    { name: "le", type: "int32_le", max: 100 },
    { name: "timer", type: "timer" },
    { name: "dbl", type: "cpu_double" },
    { name: "buf", type: "buffer", size: 5 },
    { name: "unused", type: "unused_buffer", size: 3 },
    { name: "n8", type: "uint8" },
    { name: "n16", type: "uint16" },
    { name: "n32", type: "int32" },
    { name: "nbits", type: "int32" },
    { name: "blen", type: "uint32" },
    { name: "a8", type: "uint16", count: { field: "n8", width: "uint8" } },
    { name: "a16", type: "int32", count: { field: "n16", width: "uint16" } },
    { name: "a32", type: "uint8", count: { field: "n32", width: "int32" }, num: 2 },
    { name: "bitmap", type: "bitmap", sizeField: "nbits" },
    { name: "vbuf", type: "buffer", sizeField: "blen", size: 2 },
    { name: "ptrs", type: "struct", vmsd: leaf, num: 3, pointers: true },
    { name: "leaves", type: "struct", vmsd: leaf, num: 2 },
    { name: "v", type: "vstruct", vmsd: leaf, structVersion: 1 },
    { name: "tmp", type: "tmp", vmsd: tmp },
    { name: "q", type: "qtailq", vmsd: key, version: 1 },
    { name: "l", type: "qlist", vmsd: key, version: 1 },
    { name: "tree", type: "gtree", vmsd: leaf, keyVmsd: key2, version: 2 },
    { name: "direct", type: "gtree", vmsd: key, version: 1 },
    { name: "late", type: "uint32", version: 3 },
    { name: "maybe", type: "uint8", exists: (s) => s.b === true },
    { name: "check", type: "validate", mustExist: true, exists: (s) => s.le !== -1 },
  ],
  subsections: [
    defineVmsd({ name: "sink/one", version: 1, minimumVersion: 1, fields: [{ name: "s", type: "uint64" }] }),
    defineVmsd({
      name: "sink/two",
      version: 2,
      minimumVersion: 1,
      fields: [{ name: "inner", type: "struct", vmsd: leaf }],
    }),
  ],
});

const params = propertyParams(60) as { numRuns?: number; seed?: number };

describe("save → load is the identity", () => {
  for (const format of [3, 4] as const) {
    for (const version of [1, 2, 3]) {
      test.prop([arbitraryState(sink, { version })], params)(`kitchen sink v${version}, format ${format}`, (state) => {
        const bytes = saveState(sink, state, { version, format });
        // The destination's NULL pointers are part of its state, as in QEMU.
        const back = loadState(sink, bytes, { version, format, current: { ptrs: state.ptrs } });
        expect(back).toEqual(state);
        expect(saveState(sink, back, { version, format })).toEqual(bytes);
      });
    }
  }
  for (const d of sampleDevices) {
    for (const { release, schema } of sampleReleases(d)) {
      for (let version = schema.minimumVersion; version <= schema.version; version++) {
        test.prop([arbitraryState(schema, { version })], params)(`${d.name} release ${release} at v${version}`, (state) => {
          for (const format of [3, 4] as const) {
            const bytes = saveState(schema, state, { version, format });
            expect(loadState(schema, bytes, { version, format })).toEqual(state);
          }
        });
      }
    }
  }
});

describe("a newer release loads an older one's bytes by QEMU's rules", () => {
  for (const d of sampleDevices) {
    const rel = sampleReleases(d);
    for (let i = 0; i + 1 < rel.length; i++) {
      for (let j = i + 1; j < rel.length; j++) {
        const old = rel[i]!.schema;
        const neu = rel[j]!.schema;
        const v = old.version;
        const accepted = v >= neu.minimumVersion && v <= neu.version;
        test.prop([arbitraryState(old)], params)(
          `${d.name} ${rel[i]!.release} → ${rel[j]!.release}: ${accepted ? "loads" : "refused as too old"}`,
          (state) => {
            const bytes = saveState(old, state);
            if (!accepted) {
              expect(() => loadState(neu, bytes, { version: v })).toThrow(/too old/);
              return;
            }
            const loaded = loadState(neu, bytes, { version: v });
            // The newer schema re-creates the exact bytes when saving at the old version.
            expect(saveState(neu, loaded, { version: v })).toEqual(bytes);
          },
        );
      }
    }
  }
});

describe("hostile input", () => {
  test.prop([arbitraryState(sink, { version: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 })], params)(
    "a flipped byte fails with a WireError or loads, never anything else",
    (state, pos, xor) => {
      const bytes = saveState(sink, state, { format: 4 });
      const bad = bytes.slice();
      const p = pos % bad.length;
      bad[p] = bad[p]! ^ xor;
      try {
        loadState(sink, bad, { format: 4, current: { ptrs: state.ptrs } });
      } catch (e) {
        expect(e).toBeInstanceOf(WireError);
        const w = e as WireError;
        expect(w.offset).toBeGreaterThanOrEqual(0);
        expect(w.offset).toBeLessThanOrEqual(bad.length);
      }
    },
  );
  test.prop([arbitraryState(sink, { version: 3 }), fc.nat()], params)("every truncation is a WireError within the input", (state, cut) => {
    const bytes = saveState(sink, state, { format: 3 });
    const short = bytes.subarray(0, cut % bytes.length);
    try {
      loadState(sink, new ByteReader(short), { current: { ptrs: state.ptrs } });
      // A format-3 prefix may end exactly where optional subsections would start.
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect((e as WireError).offset).toBeLessThanOrEqual(short.length);
    }
  });
  test("a huge VARRAY count is refused before anything is allocated", () => {
    const schema = defineVmsd({
      name: "big",
      fields: [
        { name: "n", type: "uint32" },
        { name: "a", type: "uint64", count: { field: "n", width: "uint32" } },
      ],
    });
    try {
      loadState(schema, Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).code).toBe("LIMIT_EXCEEDED");
      expect((e as WireError).offset).toBe(4);
      expect((e as WireError).path).toBe("big/a");
    }
  });
  test("a cyclic schema hits the depth limit, not the stack", () => {
    const fields: { name: string; type: "qtailq"; vmsd?: ReturnType<typeof defineVmsd>; version: number }[] = [
      { name: "kids", type: "qtailq", version: 0 },
    ];
    const node = defineVmsd({ name: "node", fields });
    fields[0]!.vmsd = node;
    const deep = new Uint8Array(200).fill(1);
    expect(() => loadState(node, deep)).toThrow(/nested deeper/);
  });
  test("equal and le checks name the value's offset", () => {
    const s = defineVmsd({ name: "eq", fields: [{ name: "a", type: "uint8" }, { name: "e", type: "uint32_equal", expect: 5 }] });
    try {
      loadState(s, Uint8Array.from([0, 0, 0, 0, 6]));
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).offset).toBe(1);
      expect((e as WireError).message).toContain("expected 5");
    }
  });
});

export type { State };

describe("load-time checks", () => {
  const s = defineVmsd({
    name: "chk",
    version: 1,
    fields: [
      { name: "n", type: "uint8" },
      { name: "lim", type: "int32_le" },
      { name: "ok", type: "validate", mustExist: true, exists: (st) => (st.n as number) < 10 },
    ],
  });
  test("int32_le: 0 <= value <= the destination's current value", () => {
    expect(loadState(s, Uint8Array.of(1, 0, 0, 0, 5), { current: { lim: 5 } })).toEqual({ n: 1, lim: 5 });
    expect(() => loadState(s, Uint8Array.of(1, 0, 0, 0, 6), { current: { lim: 5 } })).toThrow(/lim: value out of range: expected 0..5, found 6/);
    expect(() => loadState(s, Uint8Array.of(1, 0xff, 0xff, 0xff, 0xff))).toThrow(/expected >= 0, found -1/);
  });
  test("VMS_MUST_EXIST: a failed validation stops the load at that point", () => {
    try {
      loadState(s, Uint8Array.of(10, 0, 0, 0, 0));
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).message).toBe("chk/ok: input validation failed: chk/ok");
      expect((e as WireError).offset).toBe(5);
    }
    expect(() => saveState(s, { n: 10, lim: 0 })).toThrow(/output state validation failed/);
  });
});
