/**
 * The vmdesc trailer: QEMU's own JSON description of every FULL section it sent
 * (field names, types, per-element sizes, the subsections actually sent). It
 * makes device bodies parseable without knowing any VMSD, the way
 * scripts/analyze-migration.py does. Here it is compiled once per stream into
 * plain slot lists that the state reader and writer walk.
 */
import { LimitError, MAX_DEPTH, MalformedError } from "@vmstream/framing";
import { Az, analyzeReader } from "../schema/type-names.js";
import { QEMU_SECTION } from "./constants.js";

/** How a slot's bytes become a JSON value in `decode`. */
export const Kind = { Int: 0, UInt: 1, Bool: 2, Bytes: 3, Struct: 4 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

export { Az };

export interface Slot {
  /** Unique key in the decoded object (the vmdesc name; `name#2`… for repeats). */
  key: string;
  /** The vmdesc name, which is analyze-migration's key. */
  name: string;
  type: string;
  kind: Kind;
  az: Az;
  /** Bytes per element (leaves). */
  size: number;
  /** Elements this slot covers: `array_len`, else 1. */
  count: number;
  /** -1, or the element index of an `index` entry. */
  index: number;
  /** True when the decoded value is an array (array_len or index entries). */
  arrayed: boolean;
  /** Length of the decoded array: `count`, or for index entries the number of entries in the group. */
  total: number;
  struct: Desc | null;
}

export interface Desc {
  /** vmsd_name; "" for old-style save_state sections. */
  name: string;
  version: number;
  slots: Slot[];
  subs: Desc[];
  /** Key of each subsection in the decoded object, parallel to `subs`. */
  subKeys: string[];
  /** Written by VMState (gets format 4's SUBSECTIONS_END); false for old-style save_state bodies. */
  vmstate: boolean;
  /** Holds (at any depth) a qtailq/qlist/gtree whose element descriptions the vmdesc cannot give. */
  opaqueVmstate: boolean;
  /** Elements one walk visits (bounded by MAX_ELEMENTS). */
  weight: number;
  /** Bytes the description covers in format 3 (fields, and the headers and bodies of its subsections). */
  bytes: number;
  /** The first struct (at any depth) whose size is not what its fields add up to in format 3, or null. */
  contradiction: string | null;
}

export interface DeviceDesc {
  name: string;
  instance: number;
  desc: Desc;
}

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
 * Find the vmdesc at the end of `tail` (bytes that run to the end of the
 * stream): `0x06, be32 N, N bytes of JSON` ending exactly at the last byte,
 * preceded by the EOF byte. Returns its position in `tail`, or -1.
 */
export function locateVmdesc(tail: Uint8Array): number {
  const n = tail.byteLength;
  // The JSON holds no raw control byte (QEMU escapes them), so the marker is among the last 0x06 bytes.
  for (let p = n - 6; p >= 1; p--) {
    if (tail[p] !== QEMU_SECTION.VMDESCRIPTION) continue;
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
  for (let p = n - 6; p >= 1; p--) {
    if (tail[p] !== QEMU_SECTION.VMDESCRIPTION || tail[p - 1] !== QEMU_SECTION.EOF || tail[p + 5] !== 0x7b) continue;
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
    const desc = compileDesc(d, `vmdesc.devices[${i}]`, offset, 0);
    contradiction ??= desc.contradiction;
    devices.set(deviceKey(name, inst >>> 0), { name, instance: inst >>> 0, desc });
  }
  return { pageSize: typeof ps === "number" ? ps : undefined, devices, text, contradiction };
}

function obj(v: unknown, where: string, offset: number): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MalformedError(`${where}: object expected`, offset);
  return v as Record<string, unknown>;
}

function compileDesc(d: Record<string, unknown>, where: string, offset: number, depth: number): Desc {
  if (depth > MAX_DEPTH) throw new LimitError(`${where}: nesting deeper than ${MAX_DEPTH}`, offset);
  const vmstate = typeof d["vmsd_name"] === "string";
  const fields = d["fields"] ?? [];
  if (!Array.isArray(fields)) throw new MalformedError(`${where}.fields: array expected`, offset);
  const used = new Set<string>();
  const unique = (name: string): string => {
    let k = name;
    for (let n = 2; used.has(k); n++) k = `${name}#${n}`;
    used.add(k);
    return k;
  };
  const arrays = new Map<string, { key: string; next: number; group: Slot[] }>();
  const slots: Slot[] = [];
  let opaque = false;
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
    let key: string;
    if (index >= 0) {
      const a = arrays.get(name);
      if (index === 0 || !a) {
        if (index !== 0) throw new MalformedError(`${where}.fields[${i}]: ${name} starts at index ${index}`, offset);
        key = unique(name);
        arrays.set(name, { key, next: 1, group: [] });
      } else {
        if (a.next !== index) throw new MalformedError(`${where}.fields[${i}]: ${name} index ${index} out of order`, offset);
        a.next++;
        key = a.key;
      }
    } else {
      key = unique(name);
    }
    const st = f["struct"];
    let struct: Desc | null = null;
    let kind: Kind;
    let az: Az;
    if (type === "struct" && st !== undefined) {
      struct = compileDesc(obj(st, `${where}.fields[${i}].struct`, offset), `${where}.${name}`, offset, depth + 1);
      kind = Kind.Struct;
      az = Az.Struct;
    } else if ((type === "tmp" || type === "vstruct") && typeof f["vmsd_name"] === "string" && Array.isArray(f["fields"])) {
      // QEMU writes these nested descriptions inline in the field's own object.
      struct = compileDesc(f, `${where}.${name}`, offset, depth + 1);
      kind = Kind.Struct;
      az = Az.Hex;
    } else if (INLINE_LISTS.has(type) && typeof f["vmsd_name"] === "string") {
      // qtailq/qlist/gtree elements are described with duplicate keys: only the last survives.
      opaque = true;
      az = Az.Hex;
      kind = Kind.Bytes;
    } else {
      // The shared type-name table says how analyze prints it; sizes other than C's widths stay bytes.
      az = analyzeReader(type);
      if (az === Az.Int || az === Az.UInt) kind = size === 1 || size === 2 || size === 4 || size === 8 ? (az === Az.Int ? Kind.Int : Kind.UInt) : Kind.Bytes;
      else if (az === Az.Bool) kind = size === 1 ? Kind.Bool : Kind.Bytes;
      else {
        // "struct" without a body, device-specific infos ("pci config", …): bytes.
        az = Az.Hex;
        kind = Kind.Bytes;
      }
    }
    const slot: Slot = {
      key,
      name,
      type,
      kind,
      az,
      size,
      count: arrayLen > 1 ? arrayLen : 1,
      index,
      arrayed: arrayLen > 1 || index >= 0,
      total: arrayLen > 1 ? arrayLen : 1,
      struct,
    };
    slots.push(slot);
    if (index >= 0) arrays.get(name)!.group.push(slot);
  }
  for (const a of arrays.values()) for (const g of a.group) g.total = a.next;
  const subs: Desc[] = [];
  const subKeys: string[] = [];
  const ss = d["subsections"] ?? [];
  if (!Array.isArray(ss)) throw new MalformedError(`${where}.subsections: array expected`, offset);
  for (let i = 0; i < ss.length; i++) {
    const s = compileDesc(obj(ss[i], `${where}.subsections[${i}]`, offset), `${where}.subsections[${i}]`, offset, depth + 1);
    subs.push(s);
    subKeys.push(unique(s.name));
    if (s.opaqueVmstate) opaque = true;
  }
  for (const sl of slots) if (sl.struct?.opaqueVmstate) opaque = true;
  // QEMU writes each struct element's size as the bytes it wrote for it, so in
  // format 3 a size that differs from what its own fields add up to means the
  // description itself is damaged (not the device state it describes).
  let bytes = 0;
  let contradiction: string | null = null;
  for (const sl of slots) {
    contradiction ??= sl.struct?.contradiction ?? null;
    if (sl.struct && sl.struct.bytes !== sl.size) contradiction ??= `${where}: struct ${sl.name} has size ${sl.size} but its fields add up to ${sl.struct.bytes}`;
    bytes += sl.count * sl.size;
  }
  for (const sb of subs) {
    contradiction ??= sb.contradiction;
    bytes += 6 + utf8Length(sb.name) + sb.bytes;
  }
  // Elements a walk of this description visits: a hostile vmdesc could make an
  // array of empty elements cost time without bytes, so the total is capped.
  let weight = 1;
  for (const sl of slots) weight += sl.count * (sl.struct ? sl.struct.weight : 1);
  for (const sb of subs) weight += sb.weight;
  if (weight > MAX_ELEMENTS) throw new LimitError(`${where}: describes more than ${MAX_ELEMENTS} elements`, offset);
  const version = typeof d["version"] === "number" ? (d["version"] as number) : 0;
  return { name: vmstate ? (d["vmsd_name"] as string) : "", version, slots, subs, subKeys, vmstate, opaqueVmstate: opaque, weight, bytes, contradiction };
}
