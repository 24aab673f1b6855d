/**
 * Compilation of a `Vmsd` into closures, once per description (WeakMap cache).
 * Each field becomes a `FieldPlan` holding its presence test, element count,
 * element codec and vmdesc naming, so the interpreter loop in run.ts only calls
 * closures and never re-reads the declaration.
 */
import { type ByteReader, type ByteWriter, MalformedError, RefusedError, WireError } from "@vmstream/framing";
import { nameToBytes } from "../latin1.js";
import { documentField } from "./document-codec.js";
import type { ElementCodec, FieldPlan, VmsdPlan } from "./plan-types.js";
import { loadVmsd, saveVmsd } from "./run.js";
import { VMDESC_TYPES } from "./type-names.js";
import type { FieldType, State, Vmsd, VmsdField } from "./types.js";
import { describe, seedState } from "./values.js";

export type { ElementCodec, FieldPlan, VmsdPlan } from "./plan-types.js";

const cache = new WeakMap<Vmsd, VmsdPlan>();

export function compileVmsd(vmsd: Vmsd): VmsdPlan {
  const hit = cache.get(vmsd);
  if (hit) return hit;
  let subs: VmsdPlan[] | undefined;
  let byName: Map<string, VmsdPlan> | undefined;
  const plan: VmsdPlan = {
    vmsd,
    fields: [],
    nameBytes: nameToBytes(vmsd.name),
    subsections() {
      return (subs ??= vmsd.subsections.map(compileVmsd));
    },
    subsection(name) {
      byName ??= new Map(this.subsections().map((p) => [p.vmsd.name, p]));
      return byName.get(name);
    },
  };
  for (const [k, v] of [["version", vmsd.version], ["minimumVersion", vmsd.minimumVersion]] as const) {
    if (!Number.isSafeInteger(v)) throw new RefusedError(`${vmsd.name}: ${k} must be an integer`, 0, { found: String(v) });
  }
  cache.set(vmsd, plan);
  // A name declared more than once keys its k-th field `name[k]` (vmdesc names it so too).
  const declared = new Map<string, number>();
  for (const f of vmsd.fields) declared.set(f.name, (declared.get(f.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  for (const f of vmsd.fields) {
    if (f.vmdesc) {
      // A field of a stream's vmdesc: its key and document values come from the vmdesc entry.
      const nested = f.vmsd;
      plan.fields.push(documentField(f, nested ? () => compileVmsd(nested) : null));
      continue;
    }
    const k = seen.get(f.name) ?? 0;
    seen.set(f.name, k + 1);
    plan.fields.push(compileField(vmsd, f, declared.get(f.name)! > 1 ? `${f.name}[${k}]` : f.name));
  }
  return plan;
}

/** vmdesc type name of each field type (the shared table in type-names.ts). */
export const INFO_NAME: Record<FieldType, string> = Object.fromEntries(
  (Object.entries(VMDESC_TYPES) as [FieldType, { name: string }][]).map(([t, e]) => [t, e.name]),
) as Record<FieldType, string>;

export function infoName(f: VmsdField): string {
  if (f.type === "struct" || f.type === "vstruct") return f.type;
  return f.info ?? INFO_NAME[f.type];
}

/** vmsd_can_compress(): arrays described by their first element only. */
export function canCompress(f: VmsdField, seen: Set<Vmsd> = new Set()): boolean {
  if (f.exists) return false;
  if (f.type === "struct" && f.vmsd) {
    if (seen.has(f.vmsd)) return true;
    seen.add(f.vmsd);
    if (!f.vmsd.fields.every((s) => canCompress(s, seen))) return false;
    if (f.vmsd.subsections.length > 0) return false;
  }
  return true;
}

/** Declarations may come from untrusted JSON (vmsdFromVmdesc): sizes and counts must be plain integers. */
function checkDeclaration(owner: Vmsd, f: VmsdField): void {
  const ints: [string, number | undefined, number][] = [
    ["version", f.version, -0x8000_0000],
    ["num", f.num, 0],
    ["size", f.size, 0],
    ["bits", f.bits, 0],
    ["structVersion", f.structVersion, -0x8000_0000],
  ];
  for (const [k, v, min] of ints) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > 0x7fff_ffff)) {
      throw new RefusedError(`${owner.name}: field ${f.name}: ${k} must be an integer in [${min}, ${0x7fff_ffff}]`, 0, { found: String(v) });
    }
  }
  if (!INFO_NAME[f.type]) throw new RefusedError(`${owner.name}: field ${f.name}: unknown type`, 0, { found: String(f.type) });
}

function compileField(owner: Vmsd, f: VmsdField, defaultKey: string): FieldPlan {
  checkDeclaration(owner, f);
  const key = f.key ?? defaultKey;
  const fv = f.version ?? 0;
  const exists = f.exists;
  const present = exists ? (s: State, v: number) => exists(s, v) : (_s: State, v: number) => fv <= v;
  const isArray = f.num !== undefined || f.count !== undefined;
  const count = countOf(f);
  const size = sizeOf(f);
  return {
    def: f,
    key,
    descName: defaultKey,
    typeName: infoName(f),
    structChild: f.type === "struct",
    compressible: canCompress(f),
    isArray,
    present,
    count,
    size,
    elem: elementCodec(owner, f),
  };
}

function numberAt(state: State, key: string, what: string, offset: number): number {
  const v = state[key];
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "bigint") return Number(v);
  throw new MalformedError(`${what} field "${key}" holds no integer`, offset, { found: describe(v) });
}

function countOf(f: VmsdField): (s: State, offset: number) => number {
  const num = f.num ?? 1;
  const c = f.count;
  if (!c) return () => num;
  const mul = f.num ?? 1;
  return (s, offset) => {
    let n = numberAt(s, c.field, "count", offset);
    // QEMU reads the counter with its C width and keeps it in an int: a negative count runs no iterations.
    switch (c.width) {
      case "uint8":
        n &= 0xff;
        break;
      case "uint16":
        n &= 0xffff;
        break;
      case "uint32":
      case "int32":
        n |= 0;
        break;
    }
    if (n < 0) n = 0;
    return f.num !== undefined ? n * mul : n;
  };
}

function sizeOf(f: VmsdField): (s: State, offset: number) => number {
  const fixed = f.size ?? f.bits ?? 0;
  const sf = f.sizeField;
  if (!sf) return () => fixed;
  const mul = f.type === "bitmap" ? 1 : (f.size ?? 1);
  return (s, offset) => {
    const n = numberAt(s, sf, "size", offset) | 0;
    if (n < 0) throw new MalformedError(`negative buffer size in "${sf}"`, offset, { found: String(n) });
    return n * mul;
  };
}

function refuse(what: string, v: unknown): RefusedError {
  return new RefusedError(`cannot encode ${describe(v)} as ${what}`, 0);
}

function intIn(v: unknown, what: string, lo: number, hi: number): number {
  const n = typeof v === "bigint" ? Number(v) : v;
  if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) throw refuse(what, v);
  return n;
}

function big(v: unknown, what: string, signed: boolean): bigint {
  let b: bigint;
  if (typeof v === "bigint") b = v;
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else throw refuse(what, v);
  if (signed ? b < -(1n << 63n) || b >= 1n << 63n : b < 0n || b >= 1n << 64n) throw refuse(what, v);
  return b;
}

function equalCheck(f: VmsdField, got: number | bigint, cur: unknown, offset: number): void {
  const want = f.expect ?? (typeof cur === "number" || typeof cur === "bigint" ? cur : undefined);
  if (want === undefined) return;
  const differ = typeof want === "bigint" || typeof got === "bigint" ? BigInt(want) !== BigInt(got) : want !== got;
  if (differ) {
    throw new MalformedError(`${f.name}: value differs from the destination's`, offset, {
      expected: String(want),
      found: String(got),
    });
  }
}

function scalar(
  f: VmsdField,
  minWire: number,
  load: (r: ByteReader) => number | bigint | boolean,
  save: (w: ByteWriter, v: unknown) => void,
): ElementCodec {
  return { minWire, load, save };
}

function equalScalar(f: VmsdField, minWire: number, read: (r: ByteReader) => number | bigint, save: (w: ByteWriter, v: unknown) => void): ElementCodec {
  return {
    minWire,
    load(r, _size, cur) {
      const at = r.offset;
      const v = read(r);
      equalCheck(f, v, cur, at);
      return v;
    },
    save: (w, v) => save(w, v),
  };
}

function elementCodec(owner: Vmsd, f: VmsdField): ElementCodec {
  switch (f.type) {
    case "bool":
      return scalar(
        f,
        1,
        (r) => {
          const b = r.u8();
          // Any non-zero byte is true to QEMU; keep odd bytes as numbers so a round trip is exact.
          return b === 0 ? false : b === 1 ? true : b;
        },
        (w, v) => w.u8(v === true ? 1 : v === false ? 0 : intIn(v, "bool", 0, 255)),
      );
    case "int8":
      return scalar(f, 1, (r) => r.i8(), (w, v) => w.i8(intIn(v, "int8", -128, 127)));
    case "uint8":
      return scalar(f, 1, (r) => r.u8(), (w, v) => w.u8(intIn(v, "uint8", 0, 255)));
    case "int16":
      return scalar(f, 2, (r) => r.i16be(), (w, v) => w.i16be(intIn(v, "int16", -0x8000, 0x7fff)));
    case "uint16":
      return scalar(f, 2, (r) => r.u16be(), (w, v) => w.u16be(intIn(v, "uint16", 0, 0xffff)));
    case "int32":
      return scalar(f, 4, (r) => r.i32be(), (w, v) => w.i32be(intIn(v, "int32", -0x8000_0000, 0x7fff_ffff)));
    case "uint32":
      return scalar(f, 4, (r) => r.u32be(), (w, v) => w.u32be(intIn(v, "uint32", 0, 0xffff_ffff)));
    case "int64":
    case "timer":
      return scalar(f, 8, (r) => r.i64be(), (w, v) => w.i64be(big(v, f.type, true)));
    case "uint64":
      return scalar(f, 8, (r) => r.u64be(), (w, v) => w.u64be(big(v, "uint64", false)));
    case "int32_equal":
      return equalScalar(f, 4, (r) => r.i32be(), (w, v) => w.i32be(intIn(v, "int32", -0x8000_0000, 0x7fff_ffff)));
    case "uint8_equal":
      return equalScalar(f, 1, (r) => r.u8(), (w, v) => w.u8(intIn(v, "uint8", 0, 255)));
    case "uint16_equal":
      return equalScalar(f, 2, (r) => r.u16be(), (w, v) => w.u16be(intIn(v, "uint16", 0, 0xffff)));
    case "uint32_equal":
      return equalScalar(f, 4, (r) => r.u32be(), (w, v) => w.u32be(intIn(v, "uint32", 0, 0xffff_ffff)));
    case "uint64_equal":
      return equalScalar(f, 8, (r) => r.u64be(), (w, v) => w.u64be(big(v, "uint64", false)));
    case "int32_le":
      return {
        minWire: 4,
        load(r, _size, cur) {
          const at = r.offset;
          const v = r.i32be();
          // "le" is "less or equal": 0 <= loaded <= the destination's current value.
          const max = f.max ?? (typeof cur === "number" ? cur : undefined);
          if (v < 0 || (max !== undefined && v > max)) {
            throw new MalformedError(`${f.name}: value out of range`, at, {
              expected: max === undefined ? ">= 0" : `0..${max}`,
              found: String(v),
            });
          }
          return v;
        },
        save: (w, v) => w.i32be(intIn(v, "int32", -0x8000_0000, 0x7fff_ffff)),
      };
    case "cpu_double":
    case "float64":
      // CPU_Double_U is the upper be32 then the lower be32: the same bytes as a big-endian double.
      return {
        minWire: 8,
        load(r) {
          const p = r.pos;
          r.skip(8, f.type);
          return r.view.getFloat64(p, false);
        },
        save(w, v) {
          if (typeof v !== "number") throw refuse(f.type, v);
          const p = w.reserve(8);
          scratch.setFloat64(0, v, false);
          const out = w.finish();
          for (let i = 0; i < 8; i++) out[p + i] = scratchBytes[i]!;
        },
      };
    case "buffer":
    case "unused_buffer":
    case "bitmap": {
      const bitmap = f.type === "bitmap";
      const unused = f.type === "unused_buffer";
      const bytesFor = bitmap ? (n: number) => Math.ceil(n / 64) * 8 : (n: number) => n;
      return {
        minWire: f.sizeField ? 0 : bytesFor(f.size ?? f.bits ?? 0),
        load: (r, size) => r.bytesView(bytesFor(size), f.type),
        save(w, v, size) {
          const n = bytesFor(size);
          if (v === undefined && unused) {
            w.zeros(n); // what QEMU's saver writes
            return;
          }
          if (!(v instanceof Uint8Array) || v.byteLength !== n) throw refuse(`${f.type} of ${n} bytes`, v);
          w.bytes(v);
        },
      };
    }
    case "validate":
      return { minWire: 0, load: () => undefined, save: () => {} };
    case "struct":
    case "vstruct":
    case "tmp":
      return nestedCodec(owner, f);
    case "qtailq":
    case "qlist":
      return listCodec(owner, f);
    case "gtree":
      return gtreeCodec(owner, f);
  }
}

const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

function needVmsd(owner: Vmsd, f: VmsdField): Vmsd {
  if (!f.vmsd) throw new RefusedError(`${owner.name}: field ${f.name} of type ${f.type} declares no vmsd`, 0);
  return f.vmsd;
}

function asState(v: unknown, what: string): State {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) throw refuse(what, v);
  return v as State;
}

function nestedCodec(owner: Vmsd, f: VmsdField): ElementCodec {
  const vmsd = needVmsd(owner, f);
  let plan: VmsdPlan | undefined;
  const p = () => (plan ??= compileVmsd(vmsd));
  // Which version the nested description runs at (§4.4): a struct at its own
  // version, a vstruct at struct_version_id, tmp at field->version_id on load
  // but at its own version on save (QEMU's asymmetry, kept on purpose).
  const loadVersion = f.type === "vstruct" ? (f.structVersion ?? vmsd.version) : f.type === "tmp" ? (f.version ?? 0) : vmsd.version;
  const saveVersion = f.type === "vstruct" ? (f.structVersion ?? vmsd.version) : vmsd.version;
  return {
    minWire: minWireOf(vmsd, new Set()),
    load(r, _size, cur, ctx) {
      const obj = seedState(cur);
      loadVmsd(p(), r, loadVersion, obj, ctx);
      return obj;
    },
    save(w, v, _size, ctx, desc) {
      saveVmsd(p(), w, asState(v, vmsd.name), saveVersion, ctx, desc);
    },
  };
}

/** Bytes a description always writes: fields present at every accepted version, fixed widths only. */
export function minWireOf(vmsd: Vmsd, seen: Set<Vmsd>): number {
  if (seen.has(vmsd)) return 0;
  seen.add(vmsd);
  let n = 0;
  for (const f of vmsd.fields) {
    if (f.exists || (f.version ?? 0) > vmsd.minimumVersion || f.count || f.pointers) continue;
    const k = f.num ?? 1;
    n += k * elementMin(f, seen);
  }
  seen.delete(vmsd);
  return n;
}

const WIDTH: Partial<Record<FieldType, number>> = {
  bool: 1, int8: 1, uint8: 1, uint8_equal: 1, int16: 2, uint16: 2, uint16_equal: 2,
  int32: 4, uint32: 4, int32_equal: 4, uint32_equal: 4, int32_le: 4,
  int64: 8, uint64: 8, uint64_equal: 8, timer: 8, cpu_double: 8, float64: 8,
  qtailq: 1, qlist: 1, gtree: 5,
};

function elementMin(f: VmsdField, seen: Set<Vmsd>): number {
  const w = WIDTH[f.type];
  if (w !== undefined) return w;
  if (f.type === "buffer" || f.type === "unused_buffer") return f.sizeField ? 0 : (f.size ?? 0);
  if (f.type === "bitmap") return f.sizeField ? 0 : Math.ceil((f.bits ?? 0) / 64) * 8;
  if ((f.type === "struct" || f.type === "vstruct" || f.type === "tmp") && f.vmsd) return minWireOf(f.vmsd, seen);
  return 0;
}

function versionRange(vmsd: Vmsd, version: number, offset: number): void {
  if (version > vmsd.version || version < vmsd.minimumVersion) {
    throw new MalformedError(`${vmsd.name}: version ${version} ${version > vmsd.version ? "too new" : "too old"}`, offset, {
      expected: `${vmsd.minimumVersion}..${vmsd.version}`,
      found: String(version),
    });
  }
}

function listCodec(owner: Vmsd, f: VmsdField): ElementCodec {
  const vmsd = needVmsd(owner, f);
  let plan: VmsdPlan | undefined;
  const p = () => (plan ??= compileVmsd(vmsd));
  const fv = f.version ?? 0;
  return {
    minWire: 1,
    load(r, _size, _cur, ctx) {
      // Elements load at field->version_id, checked against the element description first.
      versionRange(vmsd, fv, r.offset);
      const out: State[] = [];
      // Any non-zero byte continues the list (QEMU tests the byte for truth).
      while (r.u8() !== 0) {
        const obj: State = {};
        try {
          loadVmsd(p(), r, fv, obj, ctx);
        } catch (e) {
          if (e instanceof WireError) e.within(`[${out.length}]`);
          throw e;
        }
        out.push(obj);
      }
      return out;
    },
    save(w, v, _size, ctx, desc) {
      if (!Array.isArray(v)) throw refuse(`${f.type} (an array)`, v);
      for (const el of v) {
        w.u8(1);
        saveVmsd(p(), w, asState(el, vmsd.name), vmsd.version, ctx, desc);
      }
      w.u8(0);
    },
  };
}

/** A gtree entry: `key` is a bigint for direct keys, else the key description's state. */
export interface GtreeEntry {
  key: bigint | State;
  value: State;
}

function gtreeCodec(owner: Vmsd, f: VmsdField): ElementCodec {
  const valVmsd = needVmsd(owner, f);
  const keyVmsd = f.keyVmsd;
  let vp: VmsdPlan | undefined;
  let kp: VmsdPlan | undefined;
  const fv = f.version ?? 0;
  return {
    minWire: 5,
    load(r, _size, _cur, ctx) {
      if (keyVmsd) versionRange(keyVmsd, fv, r.offset);
      versionRange(valVmsd, fv, r.offset);
      const countAt = r.offset;
      const nnodes = r.i32be();
      const out: GtreeEntry[] = [];
      for (;;) {
        const at = r.offset;
        if (r.u8() === 0) break;
        if (out.length + 1 > nnodes) {
          throw new MalformedError(`${f.name}: more gtree nodes than announced`, at, { expected: String(nnodes) });
        }
        let key: bigint | State;
        if (keyVmsd) {
          key = {};
          loadVmsd((kp ??= compileVmsd(keyVmsd)), r, fv, key, ctx);
        } else {
          key = r.u64be();
        }
        const value: State = {};
        loadVmsd((vp ??= compileVmsd(valVmsd)), r, fv, value, ctx);
        out.push({ key, value });
      }
      if (out.length !== nnodes) {
        throw new MalformedError(`${f.name}: gtree node count mismatch`, countAt, {
          expected: String(nnodes),
          found: String(out.length),
        });
      }
      return out;
    },
    save(w, v, _size, ctx, desc) {
      if (!Array.isArray(v)) throw refuse("gtree (an array of {key, value})", v);
      w.u32be(v.length);
      for (const e of v as GtreeEntry[]) {
        w.u8(1);
        if (keyVmsd) saveVmsd((kp ??= compileVmsd(keyVmsd)), w, asState(e.key, keyVmsd.name), keyVmsd.version, ctx, desc);
        else w.u64be(big(e.key, "gtree direct key", false));
        saveVmsd((vp ??= compileVmsd(valVmsd)), w, asState(e.value, valVmsd.name), valVmsd.version, ctx, desc);
      }
      w.u8(0);
    },
  };
}

