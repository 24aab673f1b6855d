/**
 * Device section bodies walked with a compiled vmdesc (see vmdesc.ts): read
 * into a JSON-able value tree, written back from one. Format 4 differs only in
 * the SUBSECTIONS_END byte after the subsections of every VMState description
 * (docs/spec/qemu.md §"Format 4").
 */
import { ByteWriter, ByteReader, MAX_DEPTH, LimitError, MalformedError, WireError, fromBase64, safeObject, hex } from "@vmstream/framing";
import { QEMU_SECTION, QEMU_VM_SUBSECTIONS_END } from "./constants.js";
import { Kind, type Desc, type Slot } from "./vmdesc.js";
import { bytesToLatin1, latin1ToBytes } from "../latin1.js";

export type StateValue = Record<string, unknown>;

/** Read one description (fields, subsections, and in format 4 its end marker). */
export function readDesc(r: ByteReader, d: Desc, v4: boolean, depth = 0): StateValue {
  if (depth > MAX_DEPTH) throw new LimitError(`structures nested deeper than ${MAX_DEPTH}`, r.offset);
  const out = safeObject();
  const slots = d.slots;
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    try {
      if (s.index >= 0) {
        if (s.index === 0) out[s.key] = [];
        (out[s.key] as unknown[]).push(readElem(r, s, v4, depth));
      } else if (s.arrayed) {
        const a = new Array<unknown>(s.count);
        for (let k = 0; k < s.count; k++) a[k] = readElem(r, s, v4, depth);
        out[s.key] = a;
      } else {
        out[s.key] = readElem(r, s, v4, depth);
      }
    } catch (e) {
      if (e instanceof WireError) e.within(s.key);
      throw e;
    }
  }
  if (v4 && d.vmstate) {
    let k = 0;
    for (;;) {
      const at = r.offset;
      const b = r.u8();
      if (b === QEMU_VM_SUBSECTIONS_END) break;
      if (b !== QEMU_SECTION.SUBSECTION)
        throw new MalformedError(`no subsection or SUBSECTIONS_END after ${d.name || "section"}`, at, {
          expected: "0x05 or 0x09",
          found: hex(b, 2),
        });
      const sub = d.subs[k];
      if (!sub) throw new MalformedError(`subsection not listed in vmdesc for ${d.name}`, at);
      out[d.subKeys[k]!] = readSub(r, sub, v4, depth, at, true);
      k++;
    }
    if (k !== d.subs.length) throw new MalformedError(`subsection ${d.subs[k]!.name} missing`, r.offset - 1, { expected: "0x05", found: "0x09" });
  } else {
    for (let k = 0; k < d.subs.length; k++) {
      const at = r.offset;
      out[d.subKeys[k]!] = readSub(r, d.subs[k]!, v4, depth, at, false);
    }
  }
  return out;
}

function readSub(r: ByteReader, sub: Desc, v4: boolean, depth: number, at: number, markerRead: boolean): StateValue {
  if (!markerRead) {
    const b = r.u8();
    if (b !== QEMU_SECTION.SUBSECTION)
      throw new MalformedError(`subsection ${sub.name} expected`, at, { expected: "0x05", found: hex(b, 2) });
  }
  const len = r.u8();
  const name = bytesToLatin1(r.bytesView(len, "subsection name"));
  if (name !== sub.name) throw new MalformedError(`subsection name differs from vmdesc`, at + 1, { expected: sub.name, found: name });
  const vat = r.offset;
  const version = r.u32be();
  if (version !== sub.version)
    throw new MalformedError(`subsection ${name} version differs from vmdesc`, vat, { expected: String(sub.version), found: String(version) });
  try {
    return readDesc(r, sub, v4, depth + 1);
  } catch (e) {
    if (e instanceof WireError) e.within(name);
    throw e;
  }
}

function readElem(r: ByteReader, s: Slot, v4: boolean, depth: number): unknown {
  switch (s.kind) {
    case Kind.Int:
      switch (s.size) {
        case 1:
          return r.i8();
        case 2:
          return r.i16be();
        case 4:
          return r.i32be();
        default:
          return r.i64be().toString();
      }
    case Kind.UInt:
      switch (s.size) {
        case 1:
          return r.u8();
        case 2:
          return r.u16be();
        case 4:
          return r.u32be();
        default:
          return r.u64be().toString();
      }
    case Kind.Bool: {
      const b = r.u8();
      return b === 0 ? false : b === 1 ? true : b;
    }
    case Kind.Struct: {
      const at = r.offset;
      const v = readDesc(r, s.struct!, v4, depth + 1);
      // vmdesc sizes count the bytes QEMU wrote for the element (format 3 has no end markers).
      if (!v4 && r.offset - at !== s.size)
        throw new MalformedError(`${s.type} ${s.name} is ${r.offset - at} bytes, vmdesc says ${s.size}`, at);
      return v;
    }
    default:
      return r.bytesView(s.size, s.type);
  }
}

const bad = (what: string, v: unknown, path: string): MalformedError =>
  new MalformedError(`${what}`, 0, { path, found: JSON.stringify(v)?.slice(0, 80) ?? String(v) });

/** Write one description from a value tree (decoded JSON or a freshly read value). */
export function writeDesc(w: ByteWriter, d: Desc, value: unknown, v4: boolean, path: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new LimitError(`structures nested deeper than ${MAX_DEPTH}`, 0, { path });
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad("object expected", value, path);
  const o = value as Record<string, unknown>;
  for (const s of d.slots) {
    const v = Object.hasOwn(o, s.key) ? o[s.key] : undefined;
    const p = `${path}.${s.key}`;
    if (s.arrayed) {
      if (!Array.isArray(v) || v.length !== s.total) throw bad(`array of ${s.total} expected`, v, p);
      if (s.index >= 0) writeElem(w, s, v[s.index], v4, `${p}[${s.index}]`, depth);
      else for (let k = 0; k < s.count; k++) writeElem(w, s, v[k], v4, `${p}[${k}]`, depth);
    } else {
      writeElem(w, s, v, v4, p, depth);
    }
  }
  for (let k = 0; k < d.subs.length; k++) {
    const sub = d.subs[k]!;
    const key = d.subKeys[k]!;
    const name = latin1ToBytes(sub.name);
    if (!name || name.byteLength === 0 || name.byteLength > 255) throw bad("subsection name must be 1-255 latin1 chars", sub.name, path);
    w.u8(QEMU_SECTION.SUBSECTION).u8(name.byteLength).bytes(name).u32be(sub.version >>> 0);
    writeDesc(w, sub, Object.hasOwn(o, key) ? o[key] : undefined, v4, `${path}.${key}`, depth + 1);
  }
  if (v4 && d.vmstate) w.u8(QEMU_VM_SUBSECTIONS_END);
}

function intOf(v: unknown, signed: boolean, size: number, p: string): bigint | number {
  const bits = size * 8;
  if (size <= 4) {
    const n = typeof v === "string" && /^-?[0-9]+$/.test(v) ? Number(v) : v;
    const lo = signed ? -(2 ** (bits - 1)) : 0;
    const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    if (typeof n !== "number" || !Number.isInteger(n) || n < lo || n > hi) throw bad(`${signed ? "int" : "uint"}${bits} expected`, v, p);
    return n;
  }
  let b: bigint;
  if (typeof v === "string" && /^-?[0-9]+$/.test(v)) b = BigInt(v);
  else if (typeof v === "number" && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === "bigint") b = v;
  else throw bad(`${signed ? "int" : "uint"}64 expected (decimal string)`, v, p);
  const lo = signed ? -(1n << 63n) : 0n;
  const hi = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  if (b < lo || b > hi) throw bad(`${signed ? "int" : "uint"}64 out of range`, v, p);
  return b;
}

function writeElem(w: ByteWriter, s: Slot, v: unknown, v4: boolean, p: string, depth: number): void {
  switch (s.kind) {
    case Kind.Int:
    case Kind.UInt: {
      const signed = s.kind === Kind.Int;
      const n = intOf(v, signed, s.size, p);
      if (s.size === 1) w.u8(Number(n) & 0xff);
      else if (s.size === 2) w.u16be(Number(n) & 0xffff);
      else if (s.size === 4) w.u32be(Number(n) >>> 0);
      else if (signed) w.i64be(n as bigint);
      else w.u64be(n as bigint);
      return;
    }
    case Kind.Bool:
      if (v === true) w.u8(1);
      else if (v === false) w.u8(0);
      else w.u8(Number(intOf(v, false, 1, p)));
      return;
    case Kind.Struct:
      writeDesc(w, s.struct!, v, v4, p, depth + 1);
      return;
    default: {
      const b = v instanceof Uint8Array ? v : typeof v === "string" ? fromBase64(v, p) : null;
      if (!b || b.byteLength !== s.size) throw bad(`${s.size} bytes (base64) expected for ${s.type}`, v, p);
      w.bytes(b);
    }
  }
}
