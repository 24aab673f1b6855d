import { ByteWriter, MalformedError, fromBase64, safeObject, toBigInt, toInt, toStr } from "@vmstream/framing";
import { writeXlFixedHeader } from "@vmstream/libxl";
import { LEGACY_CHUNKS, LEGACY_HVM_PARAM_CHUNKS } from "@vmstream/wire-spec";
import type { LegacyItem } from "./reader.js";
import type { Width } from "./shape.js";

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const ulong = (w: ByteWriter, width: Width, v: number | bigint) => (width === 32 ? w.u32le(Number(v)) : w.u64le(v));

/**
 * Write the fixed bytes of an item as they stand in a legacy image; the
 * item's payload (if any) follows them. Used by recode (payload piped from
 * the input) and encode (payload from the document).
 */
export function writeItemHead(w: ByteWriter, it: LegacyItem, width: Width): void {
  switch (it.kind) {
    case "xl":
      writeXlFixedHeader(w, { byteorder: it.byteorder, mandatoryFlags: it.mandatoryFlags, optionalFlags: it.optionalFlags, optionalLength: it.payload });
      return;
    case "p2m_size":
      ulong(w, width, it.value);
      return;
    case "ext_info":
      ulong(w, width, width === 32 ? 0xffff_ffff : 0xffff_ffff_ffff_ffffn);
      w.u32le(it.length);
      return;
    case "ext_block":
      w.bytes(ascii(it.id)).u32le(it.payload);
      return;
    case "batch":
      w.i32le(it.count);
      for (let i = 0; i < it.count; i++) ulong(w, width, it.pfns[i]!);
      return;
    case "tsc_info":
      w.i32le(-7).u32le(it.mode).u64le(it.nsec).u32le(it.khz).u32le(it.incarnation);
      return;
    case "hvm_param":
      w.i32le(it.id).u32le(it.pad).u64le(it.value);
      return;
    case "vcpu_info":
      w.i32le(-2).i32le(it.maxVcpuId);
      for (const b of it.bitmap) w.u64le(b);
      return;
    case "marker":
      w.i32le(it.id);
      return;
    case "toolstack":
    case "compressed_data":
      w.i32le(it.kind === "toolstack" ? -18 : -12).u32le(it.payload);
      return;
    case "end":
      w.i32le(0);
      return;
    case "hvm_magic":
      w.u64le(it.ioreq).u64le(it.bufioreq).u64le(it.store);
      return;
    case "hvm_context":
    case "unmapped":
      w.u32le(it.kind === "unmapped" ? it.count : it.payload);
      return;
    case "vcpu_xsave":
      w.u64le(it.mask).u64le(it.payload);
      return;
    case "qemu":
      w.bytes(ascii(it.signature));
      if (it.sized) w.u32le(it.payload);
      return;
    case "p2m_frames":
    case "vcpu_basic":
    case "vcpu_extended":
    case "shared_info":
      return;
  }
}

/** The item's fields as JSON (64-bit values as decimal strings), without its payload. */
export function itemJson(it: LegacyItem): Record<string, unknown> {
  const o = safeObject();
  o.kind = it.kind;
  o.offset = it.offset;
  switch (it.kind) {
    case "xl":
      o.byteorder = it.byteorder;
      o.mandatory_flags = it.mandatoryFlags;
      o.optional_flags = it.optionalFlags;
      break;
    case "p2m_size":
      o.value = String(it.value);
      break;
    case "ext_info":
      o.length = it.length;
      break;
    case "ext_block":
      o.id = it.id;
      break;
    case "p2m_frames":
      o.count = it.count;
      break;
    case "batch":
      o.count = it.count;
      o.pfns = Array.from(it.pfns);
      break;
    case "tsc_info":
      o.mode = it.mode;
      o.nsec = it.nsec.toString();
      o.khz = it.khz;
      o.incarnation = it.incarnation;
      break;
    case "hvm_param":
      o.name = it.name;
      o.pad = it.pad;
      o.value = it.value.toString();
      break;
    case "vcpu_info":
      o.max_vcpu_id = it.maxVcpuId;
      o.bitmap = it.bitmap.map(String);
      break;
    case "marker":
      o.name = it.name;
      break;
    case "hvm_magic":
      o.ioreq_pfn = it.ioreq.toString();
      o.bufioreq_pfn = it.bufioreq.toString();
      o.store_pfn = it.store.toString();
      break;
    case "unmapped":
      o.count = it.count;
      break;
    case "vcpu_basic":
    case "vcpu_extended":
      o.vcpu = it.vcpu;
      break;
    case "vcpu_xsave":
      o.vcpu = it.vcpu;
      o.mask = it.mask.toString();
      break;
    case "qemu":
      o.signature = it.signature;
      break;
  }
  return o;
}

const KINDS_WITH_DATA = new Set([
  "xl", "ext_block", "p2m_frames", "batch", "toolstack", "compressed_data",
  "hvm_context", "unmapped", "vcpu_basic", "vcpu_extended", "vcpu_xsave", "shared_info", "qemu",
]);
export const hasData = (kind: string): boolean => KINDS_WITH_DATA.has(kind);

/** Rebuild an item (and its payload bytes) from its JSON form; `path` names it in errors. */
export function itemFromJson(o: unknown, path: string): { item: LegacyItem; data: Uint8Array } {
  if (o === null || typeof o !== "object" || Array.isArray(o)) throw new MalformedError(`${path}: expected an object`, 0);
  const j = o as Record<string, unknown>;
  const kind = toStr(j.kind, `${path}.kind`);
  const data = hasData(kind) ? b64(j.data, `${path}.data`) : new Uint8Array(0);
  const base = { offset: 0, payload: data.length };
  const int = (k: string, min = 0, max = 0xffff_ffff) => toInt(j[k], `${path}.${k}`, min, max);
  const big = (k: string) => toBigInt(j[k], `${path}.${k}`);
  let item: LegacyItem;
  switch (kind) {
    case "xl":
      item = { ...base, kind, byteorder: int("byteorder"), mandatoryFlags: int("mandatory_flags"), optionalFlags: int("optional_flags") };
      break;
    case "p2m_size":
      item = { ...base, kind, value: toInt(j.value, `${path}.value`, 0, 2 ** 32) };
      break;
    case "ext_info":
      item = { ...base, kind, length: int("length") };
      break;
    case "ext_block": {
      const id = j.id;
      if (typeof id !== "string" || id.length !== 4) throw new MalformedError(`${path}.id: expected 4 characters`, 0);
      item = { ...base, kind, id };
      break;
    }
    case "p2m_frames":
      item = { ...base, kind, count: int("count") };
      break;
    case "batch": {
      const pfns = j.pfns;
      if (!Array.isArray(pfns) || pfns.length === 0 || pfns.length > 1024) throw new MalformedError(`${path}.pfns: expected 1 … 1024 entries`, 0);
      const a = Uint32Array.from(pfns, (v, i) => toInt(v, `${path}.pfns[${i}]`, 0, 0xffff_ffff));
      item = { ...base, kind, count: a.length, pfns: a, dataPages: data.length / 4096, fillers: 0 };
      break;
    }
    case "tsc_info":
      item = { ...base, kind, mode: int("mode"), nsec: big("nsec"), khz: int("khz"), incarnation: int("incarnation") };
      break;
    case "hvm_param": {
      const name = toStr(j.name, `${path}.name`);
      const id = Number(Object.keys(LEGACY_CHUNKS).find((k) => LEGACY_CHUNKS[Number(k)] === name));
      const index = LEGACY_HVM_PARAM_CHUNKS[id];
      if (index === undefined) throw new MalformedError(`${path}.name: not an HVM parameter chunk`, 0, { found: JSON.stringify(j.name) });
      item = { ...base, kind, id, name, index, pad: int("pad"), value: big("value") };
      break;
    }
    case "vcpu_info": {
      const bm = j.bitmap;
      if (!Array.isArray(bm) || bm.length > 64) throw new MalformedError(`${path}.bitmap: expected at most 64 words`, 0);
      item = { ...base, kind, maxVcpuId: int("max_vcpu_id", 0, 4095), bitmap: bm.map((v, i) => toBigInt(v, `${path}.bitmap[${i}]`)), online: [] };
      break;
    }
    case "marker": {
      const name = toStr(j.name, `${path}.name`);
      const id = Number(Object.keys(LEGACY_CHUNKS).find((k) => LEGACY_CHUNKS[Number(k)] === name));
      if (![-1, -9, -13].includes(id)) throw new MalformedError(`${path}.name: not a marker chunk`, 0, { found: JSON.stringify(j.name) });
      item = { ...base, kind, id, name };
      break;
    }
    case "toolstack":
    case "compressed_data":
    case "end":
    case "hvm_context":
    case "shared_info":
      item = { ...base, kind };
      break;
    case "hvm_magic":
      item = { ...base, kind, ioreq: big("ioreq_pfn"), bufioreq: big("bufioreq_pfn"), store: big("store_pfn") };
      break;
    case "unmapped":
      item = { ...base, kind, count: int("count") };
      break;
    case "vcpu_basic":
    case "vcpu_extended":
      item = { ...base, kind, vcpu: int("vcpu", 0, 4095) };
      break;
    case "vcpu_xsave":
      item = { ...base, kind, vcpu: int("vcpu", 0, 4095), mask: big("mask") };
      break;
    case "qemu": {
      const signature = j.signature;
      if (typeof signature !== "string" || signature.length !== 21) throw new MalformedError(`${path}.signature: expected 21 characters`, 0);
      item = { ...base, kind, signature, sized: signature !== "QemuDeviceModelRecord" };
      break;
    }
    default:
      throw new MalformedError(`${path}.kind: unknown item kind`, 0, { found: JSON.stringify(kind) });
  }
  return { item, data };
}

/** Base64 text, or the bytes the streaming reader already decoded from it. */
function b64(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v !== "string") throw new MalformedError(`${what}: expected base64 text`, 0);
  try {
    return fromBase64(v);
  } catch {
    throw new MalformedError(`${what}: not valid base64`, 0);
  }
}
