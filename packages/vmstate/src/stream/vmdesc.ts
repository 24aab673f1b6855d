/**
 * The vmdesc trailer: QEMU's own JSON description of every FULL section it sent
 * (field names, types, per-element sizes, the subsections actually sent). It
 * makes device bodies parseable without knowing any VMSD, the way
 * scripts/analyze-migration.py does. Here it is parsed once per stream into a
 * `Vmsd` per device (fields marked with their vmdesc entry) and compiled into
 * the plans the VMState interpreter (schema/run.ts) runs for every section body.
 */
import { LimitError, MAX_DEPTH, MalformedError } from "@vmstream/framing";
import { compileVmsd, type VmsdPlan } from "../schema/plan.js";
import { Az, analyzeReader } from "../schema/type-names.js";
import type { FieldType, VmdescSlot, Vmsd, VmsdField } from "../schema/types.js";
import { QEMU_SECTION } from "./constants.js";

export interface DeviceDesc {
  name: string;
  instance: number;
  /** The section body as the vmdesc describes it, for the VMState interpreter (schema/run.ts). */
  vmsd: Vmsd;
  /** `vmsd` compiled once: what parse, verify, decode, encode and recode run. */
  plan: VmsdPlan;
  /** Holds (at any depth) a qtailq/qlist/gtree whose element descriptions the vmdesc cannot give (kept as bytes). */
  opaque: boolean;
}

/** @deprecated the compiled description of a section is now a `Vmsd` (DeviceDesc.vmsd). */
export type Desc = Vmsd;

export interface Vmdesc {
  pageSize: number | undefined;
  devices: Map<string, DeviceDesc>;
  /** The JSON text as QEMU wrote it. */
  text: string;
  /** In format 3, where the vmdesc contradicts itself (a struct size its fields do not add up to), or null. */
  contradiction: string | null;
}

export const deviceKey = (idstr: string, instance: number): string => `${idstr}\u0000${instance}`;


const td = new TextDecoder("utf-8", { fatal: true });
const te = new TextEncoder();
const utf8Length = (s: string): number => te.encode(s).byteLength;
const INLINE_LISTS = new Set(["qtailq", "qlist", "gtree"]);
const MAX_ELEMENTS = 1 << 22;

/**
 * The last VMDESCRIPTION byte at or before `from` (-1 if none; `from` below 0
 * finds none). A native search, not a byte loop: a loop over the ~100 KiB
 * trailer ran long enough for V8 to compile it again on the side (on-stack
 * replacement), work a short command never profits from.
 */
const lastSix = (tail: Uint8Array, from: number): number => (from < 0 ? -1 : tail.lastIndexOf(QEMU_SECTION.VMDESCRIPTION, from));

/**
 * Find the vmdesc at the end of `tail` (bytes that run to the end of the
 * stream): `0x06, be32 N, N bytes of JSON` ending exactly at the last byte,
 * preceded by the EOF byte. Returns its position in `tail`, or -1.
 */
export function locateVmdesc(tail: Uint8Array): number {
  const n = tail.byteLength;
  // The JSON holds no raw control byte (QEMU escapes them), so the marker is among the last 0x06 bytes.
  for (let p = lastSix(tail, n - 6); p >= 1; p = lastSix(tail, p - 1)) {
    const len = ((tail[p + 1]! << 24) | (tail[p + 2]! << 16) | (tail[p + 3]! << 8) | tail[p + 4]!) >>> 0;
    if (len === n - p - 5 && tail[p + 5] === 0x7b && tail[p - 1] === QEMU_SECTION.EOF) return p;
    // A 0x06 inside the length field itself: keep looking further back.
  }
  return -1;
}

/**
 * Where a damaged trailer starts: the last `EOF, 0x06, be32 N, "{"` in `tail`
 * whatever N says (cut short, or followed by other bytes). Returns its
 * position and how many JSON bytes are present, or null. Only for reporting
 * damage and checking what is left: a stream QEMU wrote matches locateVmdesc.
 */
export function locateDamagedVmdesc(tail: Uint8Array): { at: number; length: number; present: number } | null {
  const n = tail.byteLength;
  for (let p = lastSix(tail, n - 6); p >= 1; p = lastSix(tail, p - 1)) {
    if (tail[p - 1] !== QEMU_SECTION.EOF || tail[p + 5] !== 0x7b) continue;
    const len = ((tail[p + 1]! << 24) | (tail[p + 2]! << 16) | (tail[p + 3]! << 8) | tail[p + 4]!) >>> 0;
    return { at: p, length: len, present: Math.min(len, n - p - 5) };
  }
  return null;
}

/** Parse and compile vmdesc JSON bytes; `offset` is where they start in the stream. */
export function parseVmdesc(bytes: Uint8Array, offset: number): Vmdesc {
  let text: string;
  let json: unknown;
  try {
    text = td.decode(bytes);
    json = JSON.parse(text);
  } catch (e) {
    throw new MalformedError(`vmdesc is not valid UTF-8 JSON (${(e as Error).message})`, offset);
  }
  return compileVmdesc(json, text, offset);
}

export function compileVmdesc(json: unknown, text: string, offset: number): Vmdesc {
  const top = obj(json, "vmdesc", offset);
  const ps = top["page_size"];
  const devices = new Map<string, DeviceDesc>();
  let contradiction: string | null = null;
  const list = top["devices"];
  if (!Array.isArray(list)) throw new MalformedError("vmdesc has no devices list", offset);
  for (let i = 0; i < list.length; i++) {
    const d = obj(list[i], `vmdesc.devices[${i}]`, offset);
    const name = d["name"];
    const inst = d["instance_id"];
    if (typeof name !== "string" || typeof inst !== "number")
      throw new MalformedError(`vmdesc.devices[${i}]: name and instance_id expected`, offset);
    const desc = compileDesc(readVmdescEntry(d, `vmdesc.devices[${i}]`, offset), `vmdesc.devices[${i}]`, offset);
    contradiction ??= desc.contradiction;
    devices.set(deviceKey(name, inst >>> 0), { name, instance: inst >>> 0, vmsd: desc.vmsd, plan: compileVmsd(desc.vmsd), opaque: desc.opaque });
  }
  return { pageSize: typeof ps === "number" ? ps : undefined, devices, text, contradiction };
}

function obj(v: unknown, where: string, offset: number): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MalformedError(`${where}: object expected`, offset);
  return v as Record<string, unknown>;
}

/**
 * One vmdesc description body (a `devices[]` entry, a struct's `struct`, a
 * tmp/vstruct field's inline description, a subsection) as read and checked:
 * the one walk over vmdesc JSON. The stream codec compiles it (compileDesc);
 * schema/from-vmdesc.ts turns it into a state-valued `Vmsd`.
 */
export interface VmdescEntry {
  /** `vmsd_name`, or null for an old-style save_state entry. */
  vmsdName: string | null;
  /** `version`, or 0 when absent. */
  version: number;
  /** In the order QEMU wrote them; each element of an `index` group is its own entry. */
  fields: VmdescEntryField[];
  /** The subsections actually sent, in order. */
  subsections: VmdescEntry[];
}

export interface VmdescEntryField {
  name: string;
  /** The vmdesc type name. */
  type: string;
  /** Bytes per element. */
  size: number;
  /** `array_len`, or 0 when absent. */
  arrayLen: number;
  /** `index` (one element of an uncompressible array), or -1 when absent. */
  index: number;
  /** A struct's `struct` body, or a tmp/vstruct field's inline description; null otherwise. */
  body: VmdescEntry | null;
  /** A qtailq/qlist/gtree whose elements QEMU describes with duplicate keys (only the last survives). */
  inlineList: boolean;
}

/** Read one vmdesc description body: shapes, sizes, counts and `index` order checked, depth bounded. */
export function readVmdescEntry(v: unknown, where: string, offset: number, depth = 0): VmdescEntry {
  if (depth > MAX_DEPTH) throw new LimitError(`${where}: nesting deeper than ${MAX_DEPTH}`, offset);
  const d = obj(v, where, offset);
  const fields = d["fields"] ?? [];
  if (!Array.isArray(fields)) throw new MalformedError(`${where}.fields: array expected`, offset);
  const next = new Map<string, number>();
  const out: VmdescEntryField[] = [];
  for (let i = 0; i < fields.length; i++) {
    const f = obj(fields[i], `${where}.fields[${i}]`, offset);
    const name = f["name"];
    const type = f["type"];
    const size = f["size"];
    if (typeof name !== "string" || typeof type !== "string" || typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
      throw new MalformedError(`${where}.fields[${i}]: name, type and size expected`, offset);
    const arrayLen = typeof f["array_len"] === "number" ? (f["array_len"] as number) : 0;
    if (!Number.isSafeInteger(arrayLen) || arrayLen < 0 || arrayLen > MAX_ELEMENTS)
      throw new LimitError(`${where}.fields[${i}]: array_len ${arrayLen}`, offset);
    const index = typeof f["index"] === "number" ? (f["index"] as number) : -1;
    if (index >= 0) {
      const n = next.get(name);
      if (index === 0 || n === undefined) {
        if (index !== 0) throw new MalformedError(`${where}.fields[${i}]: ${name} starts at index ${index}`, offset);
      } else if (n !== index) throw new MalformedError(`${where}.fields[${i}]: ${name} index ${index} out of order`, offset);
      next.set(name, index + 1);
    }
    const st = f["struct"];
    let body: VmdescEntry | null = null;
    let inlineList = false;
    if (type === "struct" && st !== undefined) body = readVmdescEntry(obj(st, `${where}.fields[${i}].struct`, offset), `${where}.${name}`, offset, depth + 1);
    else if ((type === "tmp" || type === "vstruct") && typeof f["vmsd_name"] === "string" && Array.isArray(f["fields"]))
      // QEMU writes these nested descriptions inline in the field's own object.
      body = readVmdescEntry(f, `${where}.${name}`, offset, depth + 1);
    else if (INLINE_LISTS.has(type) && typeof f["vmsd_name"] === "string") inlineList = true;
    out.push({ name, type, size, arrayLen, index, body, inlineList });
  }
  const ss = d["subsections"] ?? [];
  if (!Array.isArray(ss)) throw new MalformedError(`${where}.subsections: array expected`, offset);
  const subsections: VmdescEntry[] = [];
  for (let i = 0; i < ss.length; i++) subsections.push(readVmdescEntry(ss[i], `${where}.subsections[${i}]`, offset, depth + 1));
  return {
    vmsdName: typeof d["vmsd_name"] === "string" ? (d["vmsd_name"] as string) : null,
    version: typeof d["version"] === "number" ? (d["version"] as number) : 0,
    fields: out,
    subsections,
  };
}

/** A description built from one vmdesc entry, with what the parser checks about it. */
interface Built {
  vmsd: Vmsd;
  /** Holds (at any depth) a qtailq/qlist/gtree kept as bytes. */
  opaque: boolean;
  /** Elements one walk visits (bounded by MAX_ELEMENTS). */
  weight: number;
  /** Bytes the description covers in format 3 (fields, and the headers and bodies of its subsections). */
  bytes: number;
  /** The first struct (at any depth) whose size is not what its fields add up to in format 3, or null. */
  contradiction: string | null;
}

const INT_TYPES: Record<number, [FieldType, FieldType]> = { 1: ["int8", "uint8"], 2: ["int16", "uint16"], 4: ["int32", "uint32"], 8: ["int64", "uint64"] };

/** The stream codec's description of a read entry: document keys (`name#2`), one key per index group, opaque lists as bytes. */
function compileDesc(e: VmdescEntry, where: string, offset: number): Built {
  const used = new Set<string>();
  const unique = (name: string): string => {
    let k = name;
    for (let n = 2; used.has(k); n++) k = `${name}#${n}`;
    used.add(k);
    return k;
  };
  const arrays = new Map<string, { key: string; next: number; group: VmdescSlot[] }>();
  const out: VmsdField[] = [];
  const nested: (Built | null)[] = [];
  let opaque = false;
  for (const f of e.fields) {
    const { name, type, size, arrayLen, index } = f;
    let key: string;
    if (index >= 0) {
      const a = arrays.get(name);
      if (index === 0 || !a) {
        key = unique(name);
        arrays.set(name, { key, next: 1, group: [] });
      } else {
        a.next++;
        key = a.key;
      }
    } else {
      key = unique(name);
    }
    let struct: Built | null = null;
    let ft: FieldType;
    let az: Az;
    if (f.body && type === "struct") {
      struct = compileDesc(f.body, `${where}.${name}`, offset);
      ft = "struct";
      az = Az.Struct;
    } else if (f.body) {
      struct = compileDesc(f.body, `${where}.${name}`, offset);
      ft = "struct";
      az = Az.Hex;
    } else if (f.inlineList) {
      opaque = true;
      az = Az.Hex;
      ft = "buffer";
    } else {
      // The shared type-name table says how analyze prints it; sizes other than C's widths stay bytes.
      az = analyzeReader(type);
      if (az === Az.Int || az === Az.UInt) ft = INT_TYPES[size]?.[az === Az.Int ? 0 : 1] ?? "buffer";
      else if (az === Az.Bool) ft = size === 1 ? "bool" : "buffer";
      else {
        // "struct" without a body, device-specific infos ("pci config", …): bytes.
        az = Az.Hex;
        ft = "buffer";
      }
    }
    const slot: VmdescSlot = { name, type, az, size, count: arrayLen > 1 ? arrayLen : 1, index, total: arrayLen > 1 ? arrayLen : 0 };
    const field: VmsdField = { name, key, type: ft, vmdesc: slot };
    if (struct) field.vmsd = struct.vmsd;
    out.push(field);
    nested.push(struct);
    if (index >= 0) arrays.get(name)!.group.push(slot);
  }
  for (const a of arrays.values()) for (const g of a.group) g.total = a.next;
  const subs: Built[] = [];
  const subKeys: string[] = [];
  for (let i = 0; i < e.subsections.length; i++) {
    const s = compileDesc(e.subsections[i]!, `${where}.subsections[${i}]`, offset);
    subs.push(s);
    subKeys.push(unique(s.vmsd.name));
    if (s.opaque) opaque = true;
  }
  for (const n of nested) if (n?.opaque) opaque = true;
  // QEMU writes each struct element's size as the bytes it wrote for it, so in
  // format 3 a size that differs from what its own fields add up to means the
  // description itself is damaged (not the device state it describes).
  let bytes = 0;
  let contradiction: string | null = null;
  for (let i = 0; i < out.length; i++) {
    const sl = out[i]!.vmdesc!;
    const n = nested[i];
    contradiction ??= n?.contradiction ?? null;
    if (n && n.bytes !== sl.size) contradiction ??= `${where}: struct ${sl.name} has size ${sl.size} but its fields add up to ${n.bytes}`;
    bytes += sl.count * sl.size;
  }
  for (const sb of subs) {
    contradiction ??= sb.contradiction;
    bytes += 6 + utf8Length(sb.vmsd.name) + sb.bytes;
  }
  // Elements a walk of this description visits: a hostile vmdesc could make an
  // array of empty elements cost time without bytes, so the total is capped.
  let weight = 1;
  for (let i = 0; i < out.length; i++) weight += out[i]!.vmdesc!.count * (nested[i] ? nested[i]!.weight : 1);
  for (const sb of subs) weight += sb.weight;
  if (weight > MAX_ELEMENTS) throw new LimitError(`${where}: describes more than ${MAX_ELEMENTS} elements`, offset);
  const vmsd: Vmsd = {
    kind: "vmsd",
    name: e.vmsdName ?? "",
    version: 0,
    minimumVersion: 0,
    fields: out,
    subsections: subs.map((b) => b.vmsd),
    vmdesc: { version: e.version, keys: subKeys, vmstate: e.vmsdName !== null },
  };
  return { vmsd, opaque, weight, bytes, contradiction };
}
