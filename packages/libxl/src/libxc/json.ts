import { MalformedError, fromBase64, toBigInt, toInt, toStr } from "@vmstream/framing";
import type { CpuidLeaf, LibxcHeader, LibxcRecord, PageEntry } from "./model.js";
import { LIBXC_CODES } from "./model.js";
import { pageTypeNibble } from "./writer.js";

/**
 * Documents → values. The JSON form of a record is the record value itself
 * with 64-bit integers as decimal strings and bytes as base64; these functions
 * undo that and check every field, naming it on error.
 */

type Obj = Record<string, unknown>;

export const asObj = (v: unknown, what: string): Obj => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MalformedError(`${what}: expected an object`, 0, { found: JSON.stringify(v)?.slice(0, 40) });
  return v as Obj;
};
export const asArr = (v: unknown, what: string): unknown[] => {
  if (!Array.isArray(v)) throw new MalformedError(`${what}: expected an array`, 0);
  return v;
};
/** Base64 text, or the bytes the streaming reader already decoded from it. */
const bytes = (v: unknown, what: string): Uint8Array => {
  if (typeof v !== "string" && !(v instanceof Uint8Array)) throw new MalformedError(`${what}: expected a base64 string`, 0);
  return fromBase64(v, what);
};
const u32 = (v: unknown, what: string) => toInt(v, what, 0, 0xffff_ffff);
const u64 = (v: unknown, what: string) => {
  const b = toBigInt(v, what);
  if (b < 0n || b > 0xffff_ffff_ffff_ffffn) throw new MalformedError(`${what}: expected a u64`, 0, { found: String(v) });
  return b;
};

export function libxcHeaderFromJson(o: Obj, version: 2 | 3): LibxcHeader {
  return {
    version,
    domainType: u32(o.domain_type, "domain_type"),
    pageShift: toInt(o.page_shift ?? 12, "page_shift", 0, 0xffff),
    xenMajor: u32(o.xen_major, "xen_major"),
    xenMinor: u32(o.xen_minor, "xen_minor"),
  };
}

export const libxcHeaderJson = (h: LibxcHeader) => ({
  domain_type: h.domainType,
  page_shift: h.pageShift,
  xen_major: h.xenMajor,
  xen_minor: h.xenMinor,
});

/** Members of a record holding bytes (base64 in the document). */
export const LIBXC_BYTES_KEYS: ReadonlySet<string> = new Set(["data", "context", "body"]);

export function libxcRecordFromJson(v: unknown, where: string): LibxcRecord {
  const o = asObj(v, where);
  const t = o.type;
  const f = (k: string) => `${where}.${k}`;
  switch (t) {
    case "END":
    case "VERIFY":
    case "CHECKPOINT":
    case "STATIC_DATA_END":
      return { type: t };
    case "PAGE_DATA": {
      const pages = asArr(o.pages, f("pages")).map((p, i): PageEntry => {
        const e = asObj(p, `${f("pages")}[${i}]`);
        const type = toStr(e.type, `${f("pages")}[${i}].type`);
        pageTypeNibble(type);
        return { pfn: toInt(e.pfn, `${f("pages")}[${i}].pfn`, 0, 2 ** 52 - 1), type };
      });
      return { type: t, pages, data: bytes(o.data ?? "", f("data")) };
    }
    case "X86_PV_INFO":
      return { type: t, guest_width: toInt(o.guest_width, f("guest_width"), 0, 255), pt_levels: toInt(o.pt_levels, f("pt_levels"), 0, 255) };
    case "X86_PV_P2M_FRAMES":
      return {
        type: t,
        start_pfn: u32(o.start_pfn, f("start_pfn")),
        end_pfn: u32(o.end_pfn, f("end_pfn")),
        frames: asArr(o.frames, f("frames")).map((x, i) => u64(x, `${f("frames")}[${i}]`)),
      };
    case "X86_PV_VCPU_BASIC":
    case "X86_PV_VCPU_EXTENDED":
    case "X86_PV_VCPU_XSAVE":
    case "X86_PV_VCPU_MSRS":
      return { type: t, vcpu_id: u32(o.vcpu_id, f("vcpu_id")), context: bytes(o.context ?? "", f("context")) };
    case "SHARED_INFO":
    case "HVM_CONTEXT":
    case "TOOLSTACK":
      return { type: t, data: bytes(o.data, f("data")) };
    case "X86_TSC_INFO":
      return {
        type: t,
        mode: u32(o.mode, f("mode")),
        khz: u32(o.khz, f("khz")),
        nsec: u64(o.nsec, f("nsec")),
        incarnation: u32(o.incarnation, f("incarnation")),
      };
    case "HVM_PARAMS":
      return {
        type: t,
        params: asArr(o.params, f("params")).map((p, i) => {
          const e = asObj(p, `${f("params")}[${i}]`);
          return { index: u64(e.index, `${f("params")}[${i}].index`), value: u64(e.value, `${f("params")}[${i}].value`) };
        }),
      };
    case "CHECKPOINT_DIRTY_PFN_LIST":
      return { type: t, pfns: asArr(o.pfns, f("pfns")).map((x, i) => u64(x, `${f("pfns")}[${i}]`)) };
    case "X86_CPUID_POLICY":
      return {
        type: t,
        leaves: asArr(o.leaves, f("leaves")).map((p, i): CpuidLeaf => {
          const e = asObj(p, `${f("leaves")}[${i}]`);
          const g = (k: string) => u32(e[k], `${f("leaves")}[${i}].${k}`);
          return { leaf: g("leaf"), subleaf: g("subleaf"), a: g("a"), b: g("b"), c: g("c"), d: g("d") };
        }),
      };
    case "X86_MSR_POLICY":
      return {
        type: t,
        msrs: asArr(o.msrs, f("msrs")).map((p, i) => {
          const e = asObj(p, `${f("msrs")}[${i}]`);
          return { index: u32(e.index, `${f("msrs")}[${i}].index`), value: u64(e.value, `${f("msrs")}[${i}].value`) };
        }),
      };
    case "OPTIONAL":
      return { type: t, code: u32(o.code, f("code")), body: bytes(o.body ?? "", f("body")) };
    default:
      throw new MalformedError(`${where}.type: unknown libxc record type`, 0, {
        expected: [...LIBXC_CODES.keys(), "OPTIONAL"].join(", "),
        found: JSON.stringify(t),
      });
  }
}
