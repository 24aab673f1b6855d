/**
 * The interpreter loop: vmstate_load_state / vmstate_save_state and the
 * subsection rules, over compiled plans. Format 3 finds subsections by QEMU's
 * peek heuristic; format 4 reads an explicit SUBSECTIONS_END after every
 * description, so nothing is ever guessed. A description built from a
 * stream's vmdesc lists the subsections that were sent, so they are read in
 * that order. This is the only walk of device state: the stream codec runs it
 * for every section body (schema/document-codec.ts).
 */
import {
  type ByteReader,
  type ByteWriter,
  LimitError,
  MAX_DEPTH,
  MalformedError,
  RefusedError,
  TruncatedError,
  WireError,
  checkCount,
  hex,
  safeObject,
} from "@vmstream/framing";
import { QEMU_SECTION, QEMU_VM_SUBSECTIONS_END } from "@vmstream/wire-spec";
import { bytesToLatin1, latin1ToBytes, nameToBytes } from "../latin1.js";
import type { QemuJsonWriter } from "./json-writer.js";
import type { FieldPlan, RunContext, VmsdPlan } from "./plan-types.js";
import type { State } from "./types.js";
import { describe, seedState } from "./values.js";

export type { RunContext } from "./plan-types.js";

const SUBSECTION = QEMU_SECTION.SUBSECTION;
const NULL_MARKER = 0x30; // VMS_NULLPTR_MARKER, '0'
/** Elements that may take no bytes at all cannot be bounded by the input size; cap their count. */
const MAX_EMPTY_ELEMENTS = 1 << 20;

/** Put `name/` in front of an error path once (top-level and subsection descriptions). */
function rooted(e: unknown, name: string): unknown {
  if (e instanceof WireError && !e.path.startsWith(`${name}/`) && e.path !== name) {
    const inner = e.path;
    e.path = "";
    e.within(inner ? `${name}/${inner}` : name);
  }
  return e;
}

function enter(ctx: RunContext, name: string, offset: number): void {
  if (++ctx.depth > MAX_DEPTH) {
    throw new LimitError(`descriptions nested deeper than ${MAX_DEPTH}`, offset, { path: name });
  }
}

export function loadVmsd(plan: VmsdPlan, r: ByteReader, version: number, target: State, ctx: RunContext, root = false): void {
  const vmsd = plan.vmsd;
  const start = r.offset;
  try {
    enter(ctx, vmsd.name, start);
    if (version > vmsd.version || version < vmsd.minimumVersion) {
      throw new WireError("UNSUPPORTED_VERSION", `${vmsd.name}: incoming version ${version} is too ${version > vmsd.version ? "new" : "old"}`, start, {
        expected: `${vmsd.minimumVersion}..${vmsd.version}`,
        found: String(version),
      });
    }
    const fields = plan.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.present(target, version)) {
        try {
          if (f.load) f.load(r, target, ctx);
          else loadField(f, r, target, ctx);
        } catch (e) {
          if (e instanceof WireError) e.within(f.key);
          throw e;
        }
      } else if (f.def.mustExist) {
        throw new MalformedError(`input validation failed: ${vmsd.name}/${f.def.name}`, r.offset, { path: f.key });
      }
    }
    if (vmsd.vmdesc) loadSubsectionsListed(plan, r, target, ctx);
    else if (ctx.format === 4) loadSubsectionsExplicit(plan, r, target, ctx);
    else loadSubsectionsPeek(plan, r, target, ctx);
  } catch (e) {
    throw root ? rooted(e, vmsd.name) : e;
  } finally {
    ctx.depth--;
  }
}

function loadField(f: FieldPlan, r: ByteReader, target: State, ctx: RunContext): void {
  if (f.def.type === "validate") return; // VMSTATE_VALIDATE: a check, never bytes
  const cur = target[f.key];
  const at = r.offset;
  const size = f.size(target, at);
  if (!f.isArray) {
    target[f.key] = f.elem.load(r, size, cur, ctx);
    return;
  }
  const n = f.count(target, at);
  const t = f.def.type;
  let min = t === "buffer" || t === "unused_buffer" ? size : t === "bitmap" ? Math.ceil(size / 64) * 8 : f.elem.minWire;
  if (f.def.pointers) min = Math.min(min, 1);
  if (min > 0) {
    // In a window of a longer stream, too few bytes means "read more", not "too many elements".
    if (ctx.windowed && n * min > r.remaining) throw new TruncatedError(`${f.def.name} elements`, at, n * min, r.remaining);
    checkCount(n, min, r.remaining, `${f.def.name} element count`, at);
  } else if (n > MAX_EMPTY_ELEMENTS) throw new LimitError(`${f.def.name}: ${n} elements of a description that may be empty`, at);
  const curArr = Array.isArray(cur) ? (cur as unknown[]) : undefined;
  const out: unknown[] = [];
  const elem = f.elem;
  const pointers = f.def.pointers === true;
  let i = 0;
  // One try for the whole run of elements; the index goes into the path on the way out.
  try {
    for (; i < n; i++) {
      const c = curArr === undefined ? undefined : curArr[i];
      if (pointers && c === null) {
        // The destination holds a NULL here, so the source sent the marker byte instead.
        const mat = r.offset;
        const b = r.u8();
        if (b !== NULL_MARKER) {
          throw new MalformedError("expected the null-pointer marker", mat, { expected: hex(NULL_MARKER, 2), found: hex(b, 2) });
        }
        out.push(null);
      } else {
        out.push(elem.load(r, size, c, ctx));
      }
    }
  } catch (e) {
    if (e instanceof WireError) e.within(`[${i}]`);
    throw e;
  }
  target[f.key] = out;
}

/** vmstate_subsection_load: QEMU 7.2's peek heuristic, step by step (qemu.md §4.6). */
function loadSubsectionsPeek(plan: VmsdPlan, r: ByteReader, target: State, ctx: RunContext): void {
  const prefix = plan.nameBytes;
  const bytes = r.bytes;
  for (;;) {
    const p = r.pos;
    if (ctx.windowed && r.end - p < 2) throw new TruncatedError("subsection peek", r.base + p, 2, r.end - p);
    if (r.end - p < 1 || bytes[p] !== SUBSECTION) return;
    // A short peek reads as 0 in QEMU, and 0 is shorter than any name.
    const len = r.end - p < 2 ? 0 : bytes[p + 1]!;
    if (len < prefix.length + 1) return;
    if (ctx.windowed && r.end - p - 2 < len) throw new TruncatedError("subsection peek", r.base + p, 2 + len, r.end - p);
    if (r.end - p - 2 < len) return;
    for (let i = 0; i < prefix.length; i++) if (bytes[p + 2 + i] !== prefix[i]) return;
    loadOneSubsection(plan, r, target, ctx);
  }
}

/** Format 4: after the fields comes 0x05 (a subsection) or 0x09 (the end); nothing else. */
function loadSubsectionsExplicit(plan: VmsdPlan, r: ByteReader, target: State, ctx: RunContext): void {
  for (;;) {
    const at = r.offset;
    const b = r.u8();
    if (b === QEMU_VM_SUBSECTIONS_END) return;
    if (b !== SUBSECTION) {
      throw new MalformedError(`${plan.vmsd.name}: expected a subsection or the end of subsections`, at, {
        expected: `${hex(SUBSECTION, 2)} or ${hex(QEMU_VM_SUBSECTIONS_END, 2)}`,
        found: hex(b, 2),
      });
    }
    r.pos--;
    loadOneSubsection(plan, r, target, ctx);
  }
}

/**
 * A description built from a stream's vmdesc lists exactly the subsections
 * that were sent, in order: each is read at its place, its name and version
 * must be the listed ones, and in format 4 the end marker must come after the
 * last (old-style save_state bodies get none). Values go under the listing's
 * keys, which stay unique beside the fields'.
 */
function loadSubsectionsListed(plan: VmsdPlan, r: ByteReader, target: State, ctx: RunContext): void {
  const listing = plan.vmsd.vmdesc!;
  const subs = plan.subsections();
  if (ctx.format === 4 && listing.vmstate) {
    let k = 0;
    for (;;) {
      const at = r.offset;
      const b = r.u8();
      if (b === QEMU_VM_SUBSECTIONS_END) break;
      if (b !== SUBSECTION)
        throw new MalformedError(`no subsection or SUBSECTIONS_END after ${plan.vmsd.name || "section"}`, at, {
          expected: "0x05 or 0x09",
          found: hex(b, 2),
        });
      const sub = subs[k];
      if (!sub) throw new MalformedError(`subsection not listed in vmdesc for ${plan.vmsd.name}`, at);
      target[listing.keys[k]!] = loadListedSubsection(sub, r, ctx, at, true);
      k++;
    }
    if (k !== subs.length) throw new MalformedError(`subsection ${subs[k]!.vmsd.name} missing`, r.offset - 1, { expected: "0x05", found: "0x09" });
    return;
  }
  for (let k = 0; k < subs.length; k++) target[listing.keys[k]!] = loadListedSubsection(subs[k]!, r, ctx, r.offset, false);
}

function loadListedSubsection(sub: VmsdPlan, r: ByteReader, ctx: RunContext, at: number, markerRead: boolean): State {
  const want = sub.vmsd;
  if (!markerRead) {
    const b = r.u8();
    if (b !== SUBSECTION) throw new MalformedError(`subsection ${want.name} expected`, at, { expected: "0x05", found: hex(b, 2) });
  }
  const len = r.u8();
  const name = bytesToLatin1(r.bytesView(len, "subsection name"));
  if (name !== want.name) throw new MalformedError(`subsection name differs from vmdesc`, at + 1, { expected: want.name, found: name });
  const vat = r.offset;
  const version = r.u32be();
  const listed = want.vmdesc!.version;
  if (version !== listed) throw new MalformedError(`subsection ${name} version differs from vmdesc`, vat, { expected: String(listed), found: String(version) });
  const out = safeObject();
  try {
    loadVmsd(sub, r, 0, out, ctx);
  } catch (e) {
    if (e instanceof WireError) e.within(name);
    throw e;
  }
  return out;
}

/** Every listed subsection, in order, from the value under its key (see loadSubsectionsListed). */
function saveSubsectionsListed(plan: VmsdPlan, w: ByteWriter, value: State, ctx: RunContext): void {
  const listing = plan.vmsd.vmdesc!;
  const subs = plan.subsections();
  for (let k = 0; k < subs.length; k++) {
    const sub = subs[k]!;
    const key = listing.keys[k]!;
    const name = latin1ToBytes(sub.vmsd.name);
    if (!name || name.byteLength === 0 || name.byteLength > 255)
      throw new MalformedError("subsection name must be 1-255 latin1 chars", 0, { found: JSON.stringify(sub.vmsd.name).slice(0, 80) });
    w.u8(SUBSECTION).u8(name.byteLength).bytes(name).u32be(sub.vmsd.vmdesc!.version >>> 0);
    const own = Object.hasOwn(value, key) ? value[key] : undefined;
    try {
      if (typeof own !== "object" || own === null || Array.isArray(own))
        throw new MalformedError("object expected", 0, { found: JSON.stringify(own)?.slice(0, 80) ?? String(own) });
      saveVmsd(sub, w, own as State, 0, ctx, null);
    } catch (e) {
      if (e instanceof WireError) e.within(key);
      throw e;
    }
  }
  if (ctx.format === 4 && listing.vmstate) w.u8(QEMU_VM_SUBSECTIONS_END);
}

function loadOneSubsection(plan: VmsdPlan, r: ByteReader, target: State, ctx: RunContext): void {
  const at = r.offset;
  r.skip(1, "subsection marker");
  const len = r.u8();
  const nameBytes = r.bytesView(len, "subsection name");
  const name = bytesToLatin1(nameBytes);
  const sub = plan.subsection(name);
  if (!sub) {
    // QEMU: -ENOENT, an unknown subsection is always fatal.
    throw new MalformedError(`${plan.vmsd.name}: unknown subsection`, at, { found: JSON.stringify(name) });
  }
  // The version is sent as be32 but QEMU keeps it in a uint8_t.
  const version = r.u32be() & 0xff;
  const obj: State = seedState(target[name]);
  loadVmsd(sub, r, version, obj, ctx, true);
  target[name] = obj;
}

export function saveVmsd(
  plan: VmsdPlan,
  w: ByteWriter,
  value: State,
  version: number,
  ctx: RunContext,
  desc: QemuJsonWriter | null,
  root = false,
): void {
  const vmsd = plan.vmsd;
  try {
    enter(ctx, vmsd.name, w.length);
    if (desc) {
      desc.str("vmsd_name", vmsd.name);
      desc.int("version", version);
      desc.startArray("fields");
    }
    const fields = plan.fields;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i]!;
      if (f.present(value, version)) {
        try {
          if (f.save) f.save(w, value, ctx);
          else saveField(f, w, value, ctx, desc);
        } catch (e) {
          if (e instanceof WireError) e.within(f.key);
          throw e;
        }
      } else if (f.def.mustExist) {
        throw new RefusedError(`output state validation failed: ${vmsd.name}/${f.def.name}`, w.length, { path: f.key });
      }
    }
    if (desc) desc.endArray();
    if (vmsd.vmdesc) {
      saveSubsectionsListed(plan, w, value, ctx);
      return;
    }
    let opened = false;
    const subs = plan.subsections();
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[k]!;
      const sv = sub.vmsd;
      const own = value[sv.name];
      const needed = sv.needed ? sv.needed(value, own as State | undefined) : own !== undefined;
      if (!needed) continue;
      if (own === undefined || own === null || typeof own !== "object") {
        throw new RefusedError(`subsection ${sv.name} is needed but the state holds no value for it`, w.length, { path: sv.name });
      }
      if (desc) {
        if (!opened) desc.startArray("subsections");
        opened = true;
        desc.startObject();
      }
      w.u8(SUBSECTION);
      const nb = nameToBytes(sv.name);
      if (nb.length > 255) throw new RefusedError(`subsection name longer than 255 bytes`, w.length, { path: sv.name });
      w.u8(nb.length);
      w.bytes(nb);
      w.u32be(sv.version);
      saveVmsd(sub, w, own as State, sv.version, ctx, desc, true);
      if (desc) desc.endObject();
    }
    if (opened) desc!.endArray();
    if (ctx.format === 4) w.u8(QEMU_VM_SUBSECTIONS_END);
  } catch (e) {
    throw root ? rooted(e, vmsd.name) : e;
  } finally {
    ctx.depth--;
  }
}

function saveField(f: FieldPlan, w: ByteWriter, state: State, ctx: RunContext, desc: QemuJsonWriter | null): void {
  const at = w.length;
  const size = f.size(state, at);
  const v = state[f.key];
  if (!f.isArray) {
    let d = desc;
    descStart(d, f, 0, 1);
    const before = w.length;
    f.elem.save(w, v, size, ctx, d);
    descEnd(d, f, w.length - before);
    d = null;
    return;
  }
  const n = f.count(state, at);
  if (!Array.isArray(v) || v.length !== n) {
    throw new RefusedError(`array needs ${n} element(s)`, at, { found: describe(v) });
  }
  let d = desc;
  for (let i = 0; i < n; i++) {
    descStart(d, f, i, n);
    const before = w.length;
    const el = v[i];
    try {
      if (el === null && f.def.pointers) w.u8(NULL_MARKER);
      else f.elem.save(w, el, size, ctx, d);
    } catch (e) {
      if (e instanceof WireError) e.within(`[${i}]`);
      throw e;
    }
    descEnd(d, f, w.length - before);
    // Compressed arrays describe their first element only.
    if (d && f.compressible) d = null;
  }
}

function descStart(d: QemuJsonWriter | null, f: FieldPlan, i: number, n: number): void {
  if (!d) return;
  d.startObject();
  d.str("name", f.descName);
  if (n > 1) {
    if (f.compressible) d.int("array_len", n);
    else d.int("index", i);
  }
  d.str("type", f.typeName);
  if (f.structChild) d.startObject("struct");
}

function descEnd(d: QemuJsonWriter | null, f: FieldPlan, size: number): void {
  if (!d) return;
  if (f.structChild) d.endObject();
  d.int("size", size);
  d.endObject();
}
