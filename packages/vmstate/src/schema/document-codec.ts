/**
 * The decode-document value representation of a field that a stream's vmdesc
 * describes (`VmsdField.vmdesc`). The compiler (plan.ts) picks these loaders
 * and savers once per field; the interpreter loop (run.ts) walks them like any
 * other field. Values are what `vmstream decode` prints and `encode` reads:
 * ints up to 32 bits as numbers, 64-bit ints as decimal strings, bools as
 * booleans (an odd byte as its number), structs as objects, everything else
 * (timers, doubles, device infos, qtailq/qlist/gtree) as the bytes vmdesc
 * sizes. Arrays keep no index in an error path, as the document has none.
 */
import { type ByteReader, type ByteWriter, MalformedError, WireError, fromBase64, safeObject } from "@vmstream/framing";
import type { ElementCodec, FieldPlan, RunContext, VmsdPlan } from "./plan-types.js";
import { loadVmsd, saveVmsd } from "./run.js";
import type { FieldType, State, VmsdField, VmdescSlot } from "./types.js";

const bad = (what: string, v: unknown): MalformedError =>
  new MalformedError(`${what}`, 0, { found: JSON.stringify(v)?.slice(0, 80) ?? String(v) });

/** Load a whole device section body described by a stream's vmdesc into a document value. */
export function loadDocument(plan: VmsdPlan, r: ByteReader, v4: boolean): State {
  const out = safeObject();
  // depth -1: the section body itself is level 0, as deep as a vmdesc may nest is allowed.
  loadVmsd(plan, r, 0, out, { format: v4 ? 4 : 3, depth: -1 });
  return out;
}

/** Write a device section body from a document value; `path` names it in errors. */
export function saveDocument(plan: VmsdPlan, w: ByteWriter, value: unknown, v4: boolean, path: string): void {
  try {
    saveObject(plan, w, value, { format: v4 ? 4 : 3, depth: -1 });
  } catch (e) {
    if (e instanceof WireError) e.within(path);
    throw e;
  }
}

/** A nested description (struct or listed subsection) from a document value, which must be an object. */
export function saveObject(plan: VmsdPlan, w: ByteWriter, value: unknown, ctx: RunContext): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("object expected", value);
  saveVmsd(plan, w, value as State, 0, ctx, null);
}

function intOf(v: unknown, signed: boolean, size: number): bigint | number {
  const bits = size * 8;
  if (size <= 4) {
    const n = typeof v === "string" && /^-?[0-9]+$/.test(v) ? Number(v) : v;
    const lo = signed ? -(2 ** (bits - 1)) : 0;
    const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) throw bad(`${signed ? "int" : "uint"}${bits} expected`, v);
    return n;
  }
  let b: bigint;
  if (typeof v === "string" && /^-?[0-9]+$/.test(v)) b = BigInt(v);
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === "bigint") b = v;
  else throw bad(`${signed ? "int" : "uint"}64 expected (decimal string)`, v);
  const lo = signed ? -(1n << 63n) : 0n;
  const hi = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  if (b < lo || b > hi) throw bad(`${signed ? "int" : "uint"}64 out of range`, v);
  return b;
}

interface IntElement {
  signed: boolean;
  read(r: ByteReader): number | string;
  write(w: ByteWriter, n: number | bigint): void;
}

/** vmdesc ints by width (the parser picks the type from the entry's size): 64-bit ones are decimal strings in the document. */
const INTS: Partial<Record<FieldType, IntElement>> = {
  int8: { signed: true, read: (r) => r.i8(), write: (w, n) => w.u8(Number(n) & 0xff) },
  int16: { signed: true, read: (r) => r.i16be(), write: (w, n) => w.u16be(Number(n) & 0xffff) },
  int32: { signed: true, read: (r) => r.i32be(), write: (w, n) => w.u32be(Number(n) >>> 0) },
  int64: { signed: true, read: (r) => r.i64be().toString(), write: (w, n) => w.i64be(n as bigint) },
  uint8: { signed: false, read: (r) => r.u8(), write: (w, n) => w.u8(Number(n) & 0xff) },
  uint16: { signed: false, read: (r) => r.u16be(), write: (w, n) => w.u16be(Number(n) & 0xffff) },
  uint32: { signed: false, read: (r) => r.u32be(), write: (w, n) => w.u32be(Number(n) >>> 0) },
  uint64: { signed: false, read: (r) => r.u64be().toString(), write: (w, n) => w.u64be(n as bigint) },
};

/** The element codec of a vmdesc field: how one element's bytes become a document value and back. */
function documentElement(f: VmsdField, s: VmdescSlot, nested: (() => VmsdPlan) | null): ElementCodec {
  const size = s.size;
  const int = INTS[f.type];
  if (int) {
    const { signed, read, write } = int;
    return { minWire: size, load: read, save: (w, v) => write(w, intOf(v, signed, size)) };
  }
  switch (f.type) {
    case "bool":
      return {
        minWire: 1,
        load(r) {
          const b = r.u8();
          return b === 0 ? false : b === 1 ? true : b;
        },
        save(w, v) {
          if (v === true) w.u8(1);
          else if (v === false) w.u8(0);
          else w.u8(Number(intOf(v, false, 1)));
        },
      };
    case "struct": {
      const p = nested!;
      const what = `${s.type} ${s.name}`;
      return {
        minWire: 0,
        load(r, _size, _cur, ctx) {
          const at = r.offset;
          const v = safeObject();
          loadVmsd(p(), r, 0, v, ctx);
          // vmdesc sizes count the bytes QEMU wrote for the element (format 3 has no end markers).
          if (ctx.format === 3 && r.offset - at !== size) throw new MalformedError(`${what} is ${r.offset - at} bytes, vmdesc says ${size}`, at);
          return v;
        },
        save: (w, v, _size, ctx) => saveObject(p(), w, v, ctx),
      };
    }
    default:
      return {
        minWire: size,
        load: (r) => r.bytesView(size, s.type),
        save(w, v) {
          const b = v instanceof Uint8Array ? v : typeof v === "string" ? base64(v) : null;
          if (!b || b.byteLength !== size) throw bad(`${size} bytes (base64) expected for ${s.type}`, v);
          w.bytes(b);
        },
      };
  }
}

/**
 * A vmdesc field's plan: one value, an `array_len` array, or one element of an
 * `index` group (consecutive entries that share the key, each with its own
 * element description).
 */
export function documentField(f: VmsdField, nested: (() => VmsdPlan) | null): FieldPlan {
  const s = f.vmdesc!;
  const key = f.key ?? f.name;
  const elem = documentElement(f, s, nested);
  const index = s.index;
  const count = s.count;
  const total = s.total;
  const atIndex = (v: unknown): unknown => {
    if (!Array.isArray(v) || v.length !== total) throw bad(`array of ${total} expected`, v);
    return v;
  };
  const fp: FieldPlan = {
    def: f,
    key,
    descName: s.name,
    typeName: s.type,
    structChild: false,
    compressible: false,
    isArray: total > 0,
    present: () => true,
    count: () => count,
    size: () => s.size,
    elem,
  };
  if (index >= 0) {
    fp.load = (r, target, ctx) => {
      if (index === 0) target[key] = [];
      (target[key] as unknown[]).push(elem.load(r, s.size, undefined, ctx));
    };
    fp.save = (w, state, ctx) => {
      const v = atIndex(Object.hasOwn(state, key) ? state[key] : undefined) as unknown[];
      within(`[${index}]`, () => elem.save(w, v[index], s.size, ctx, null));
    };
  } else if (total > 0) {
    fp.load = (r, target, ctx) => {
      const a = new Array<unknown>(count);
      for (let k = 0; k < count; k++) a[k] = elem.load(r, s.size, undefined, ctx);
      target[key] = a;
    };
    fp.save = (w, state, ctx) => {
      const v = atIndex(Object.hasOwn(state, key) ? state[key] : undefined) as unknown[];
      let k = 0;
      try {
        for (; k < count; k++) elem.save(w, v[k], s.size, ctx, null);
      } catch (e) {
        if (e instanceof WireError) e.within(`[${k}]`);
        throw e;
      }
    };
  } else {
    fp.load = (r, target, ctx) => {
      target[key] = elem.load(r, s.size, undefined, ctx);
    };
    fp.save = (w, state, ctx) => elem.save(w, Object.hasOwn(state, key) ? state[key] : undefined, s.size, ctx, null);
  }
  return fp;
}

/**
 * Base64 text → bytes. The decoder names its input at the start of its
 * message; the path is only known on the way out, so the message is made
 * pathless here and the enclosing fields prefix it as they do every error.
 */
function base64(v: string): Uint8Array {
  try {
    return fromBase64(v, "");
  } catch (e) {
    if (e instanceof WireError && e.reason.startsWith(": ")) throw new MalformedError(e.reason.slice(2), e.offset);
    throw e;
  }
}

function within(segment: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) e.within(segment);
    throw e;
  }
}
