/**
 * Subsection rules of QEMU 7.2 (qemu.md §4.6) and the point of format 4
 * (Paolo Bonzini's 2011 "unambiguous migration format"): in format 3 a
 * destination finds subsections by peeking, so bytes the guest controls can
 * pass for one; format 4 ends every description with SUBSECTIONS_END and a
 * reader never has to guess.
 */
import { fc, test } from "@fast-check/vitest";
import { ByteReader, WireError } from "@vmstream/framing";
import { arbitraryState, propertyParams } from "@vmstream/testing";
import { describe, expect } from "vitest";
import { defineVmsd, loadState, saveState, type State, type Vmsd } from "../../src/schema/index.js";

const latin = (s: string) => [...s].map((c) => c.charCodeAt(0));
const be32 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

describe("format 3 subsection detection (peek, name prefix)", () => {
  const sub = defineVmsd({ name: "dev/sub", version: 1, minimumVersion: 1, fields: [{ name: "s", type: "uint8" }] });
  const dev = defineVmsd({ name: "dev", version: 1, minimumVersion: 1, fields: [{ name: "a", type: "uint8" }], subsections: [sub] });
  test("a subsection's version is read as be32 and kept as its low byte", () => {
    const bytes = Uint8Array.from([7, 5, 7, ...latin("dev/sub"), ...be32(0x0101), 9]);
    expect(loadState(dev, bytes)).toEqual({ a: 7, "dev/sub": { s: 9 } });
  });
  test("an unknown subsection whose name has the prefix is fatal, at its marker", () => {
    const bytes = Uint8Array.from([7, 5, 7, ...latin("dev/xyz"), ...be32(1), 9]);
    expect(() => loadState(dev, bytes)).toThrow(/unknown subsection/);
    try {
      loadState(dev, bytes);
    } catch (e) {
      expect((e as WireError).offset).toBe(1);
    }
  });
  test("a name without the prefix is not a subsection: the bytes are left for whoever reads next", () => {
    const r = new ByteReader(Uint8Array.from([7, 5, 7, ...latin("xev/sub"), ...be32(1), 9]));
    expect(loadState(dev, r)).toEqual({ a: 7 });
    expect(r.offset).toBe(1);
  });
  test("too short a length, or a peek past the end, also ends the subsections quietly", () => {
    expect(loadState(dev, new ByteReader(Uint8Array.from([7, 5, 3, 1, 2, 3])))).toEqual({ a: 7 });
    expect(loadState(dev, new ByteReader(Uint8Array.from([7, 5, 9, ...latin("dev/s")])))).toEqual({ a: 7 });
  });
  test("the prefix rule bites subsections named like their siblings: dev/sub's own check claims dev/sub2", () => {
    // Saved fine; QEMU 7.2 would refuse to load it (ENOENT inside dev/sub), and so do we.
    const sub2 = defineVmsd({ name: "dev/sub2", version: 1, minimumVersion: 1, fields: [{ name: "t", type: "uint8" }] });
    const both = defineVmsd({ name: "dev", version: 1, minimumVersion: 1, fields: [{ name: "a", type: "uint8" }], subsections: [sub, sub2] });
    const bytes = saveState(both, { a: 1, "dev/sub": { s: 2 }, "dev/sub2": { t: 3 } });
    expect(() => loadState(both, bytes)).toThrow(/dev\/sub: unknown subsection: found "dev\/sub2"/);
    // Format 4 has no such trap.
    const b4 = saveState(both, { a: 1, "dev/sub": { s: 2 }, "dev/sub2": { t: 3 } }, { format: 4 });
    expect(loadState(both, b4, { format: 4 })).toEqual({ a: 1, "dev/sub": { s: 2 }, "dev/sub2": { t: 3 } });
  });
  test("format 4 writes 0x09 after every description, subsections included", () => {
    const b = [...saveState(dev, { a: 1, "dev/sub": { s: 2 } }, { format: 4 })];
    expect(b).toEqual([1, 5, 7, ...latin("dev/sub"), ...be32(1), 2, 0x09, 0x09]);
  });
  test("format 4: anything but 0x05 or 0x09 after the fields is an error at that byte", () => {
    try {
      loadState(dev, Uint8Array.from([1, 0x06]), { format: 4 });
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).offset).toBe(1);
      expect((e as WireError).message).toContain("expected 0x05 or 0x09, found 0x06");
    }
  });
});

// ---- The seed's point, as a property -----------------------------------------

/** An embedded struct that gained a subsection, with parent fields after it. */
function device(withSubsection: boolean): Vmsd {
  const extra = defineVmsd({
    name: "dev-inner/extra",
    version: 1,
    minimumVersion: 1,
    fields: [{ name: "level", type: "uint16" }],
    needed: (_s: State, own: State | undefined) => own !== undefined && own.level !== 0,
  });
  const inner = defineVmsd({
    name: "dev-inner",
    version: 1,
    minimumVersion: 1,
    fields: [{ name: "x", type: "uint32" }],
    subsections: withSubsection ? [extra] : [],
  });
  return defineVmsd({
    name: "dev",
    version: 1,
    minimumVersion: 1,
    fields: [
      { name: "a", type: "uint8" },
      { name: "inner", type: "struct", vmsd: inner },
      // Bytes the guest wrote (a FIFO): whatever it likes, including a forged subsection header.
      { name: "fifo", type: "buffer", size: 24 },
      { name: "b", type: "uint32" },
    ],
  });
}

const source = device(true);
const destination = device(false);
/** Where the inner struct's subsections start: after `a` and `inner.x`. */
const SUBSECTION_AT = 5;

const forged = fc
  .tuple(fc.constantFrom("dev-inner/extra", "dev-inner/zz"), fc.uint8Array({ minLength: 24, maxLength: 24 }))
  .map(([name, tail]) => {
    const head = [0x05, name.length, ...latin(name), ...be32(1)];
    const out = tail.slice();
    out.set(head.slice(0, 24));
    return out;
  });

const states = arbitraryState(source).chain((s) =>
  fc.oneof(fc.constant(s), forged.map((fifo) => ({ ...s, fifo }))),
);

/**
 * What a destination without the subsection must do: load the exact values
 * when the subsection was not sent, or fail right at the subsection when it was.
 */
function cleanOnDestination(format: 3 | 4) {
  return (state: State): void => {
    const bytes = saveState(source, state, { format });
    const sent = (state.inner as State)["dev-inner/extra"] !== undefined;
    let loaded: State;
    try {
      loaded = loadState(destination, bytes, { format });
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect(sent, `failed although nothing unknown was sent: ${(e as Error).message}`).toBe(true);
      expect((e as WireError).offset).toBe(SUBSECTION_AT);
      return;
    }
    expect(sent, "loaded although an unknown subsection was sent").toBe(false);
    expect(loaded).toEqual(state);
  };
}

describe("an embedded struct's subsection on a destination that lacks it", () => {
  const params = propertyParams(200) as { numRuns?: number; seed?: number };
  test.prop([states], params)("format 4: exact values, or a WireError at exactly the subsection's offset", cleanOnDestination(4));

  test("format 3: fast-check finds a state that misloads (the 2011 ambiguity)", () => {
    const run = fc.check(fc.property(states, cleanOnDestination(3)), { ...params, numRuns: 1000 });
    expect(run.failed).toBe(true);
    const [state] = run.counterexample!;
    // The counterexample: no subsection sent, the guest's FIFO starts with a
    // subsection header, and the destination takes it for one.
    expect((state.inner as State)["dev-inner/extra"]).toBeUndefined();
    expect((state.fifo as Uint8Array)[0]).toBe(0x05);
  });

  test("format 3, concretely: a forged FIFO is read as a subsection and the parent's fields shift", () => {
    const fifo = new Uint8Array(24);
    fifo.set([0x05, 15, ...latin("dev-inner/extra"), ...be32(1), 0x12, 0x34]); // 23 bytes
    fifo[23] = 0xaa;
    const state = { a: 1, inner: { x: 2 }, fifo, b: 0x01020304 };
    const bytes = saveState(source, state);
    // The source's own schema "succeeds" with wrong values: a subsection that
    // was never sent, and fifo/b read from the wrong bytes…
    const r = new ByteReader(Uint8Array.from([...bytes, ...new Array(24).fill(0xee)]));
    const misread = loadState(source, r);
    expect((misread.inner as State)["dev-inner/extra"]).toEqual({ level: 0x1234 });
    expect((misread.fifo as Uint8Array)[0]).toBe(0xaa);
    expect(misread.b).not.toBe(0x01020304);
    // …and the destination without the definition refuses a stream that holds
    // no unknown subsection at all: the "subsection" it trips on is the FIFO (offset 5).
    try {
      loadState(destination, bytes);
      expect.unreachable();
    } catch (e) {
      expect((e as WireError).offset).toBe(5);
      expect((e as WireError).message).toContain("unknown subsection");
    }
    // Format 4 reads the same state back exactly.
    expect(loadState(source, saveState(source, state, { format: 4 }), { format: 4 })).toEqual(state);
  });
});
