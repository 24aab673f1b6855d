import { libxc } from "@vmstream/wire-spec";

/** The two headers at the start of a libxc image (the image header's fixed fields are implied). */
export interface LibxcHeader {
  version: 2 | 3;
  /** 1 = x86 PV, 2 = x86 HVM. */
  domainType: number;
  pageShift: number;
  xenMajor: number;
  xenMinor: number;
}

export interface PageEntry {
  pfn: number;
  /** PAGE_DATA type name: NOTAB, L1TAB … L4TAB_PIN, BROKEN, XALLOC, XTAB. */
  type: string;
}

export interface CpuidLeaf {
  leaf: number;
  subleaf: number;
  a: number;
  b: number;
  c: number;
  d: number;
}

/**
 * One libxc record as a value. 64-bit fields are bigint, blobs are bytes; the
 * JSON form is the same object passed through `jsonText` (bigint → decimal
 * string, bytes → base64). Reserved fields and padding are always zero and so
 * are not carried.
 */
export type LibxcRecord =
  | { type: "END" | "VERIFY" | "CHECKPOINT" | "STATIC_DATA_END" }
  | { type: "PAGE_DATA"; pages: PageEntry[]; data: Uint8Array }
  | { type: "X86_PV_INFO"; guest_width: number; pt_levels: number }
  | { type: "X86_PV_P2M_FRAMES"; start_pfn: number; end_pfn: number; frames: bigint[] }
  | {
      type: "X86_PV_VCPU_BASIC" | "X86_PV_VCPU_EXTENDED" | "X86_PV_VCPU_XSAVE" | "X86_PV_VCPU_MSRS";
      vcpu_id: number;
      context: Uint8Array;
    }
  | { type: "SHARED_INFO" | "HVM_CONTEXT" | "TOOLSTACK"; data: Uint8Array }
  | { type: "X86_TSC_INFO"; mode: number; khz: number; nsec: bigint; incarnation: number }
  | { type: "HVM_PARAMS"; params: Array<{ index: bigint; value: bigint }> }
  | { type: "CHECKPOINT_DIRTY_PFN_LIST"; pfns: bigint[] }
  | { type: "X86_CPUID_POLICY"; leaves: CpuidLeaf[] }
  | { type: "X86_MSR_POLICY"; msrs: Array<{ index: number; value: bigint }> }
  /** An optional record (type bit 31) this reader does not know: carried as bytes. */
  | { type: "OPTIONAL"; code: number; body: Uint8Array };

export type LibxcRecordType = LibxcRecord["type"];

/** Record code → name, from the v3 catalogue (a superset of v2). */
export const LIBXC_NAMES: ReadonlyMap<number, string> = new Map(
  libxc.versions[libxc.versions.length - 1]!.records.map((r) => [r.code, r.name]),
);
export const LIBXC_CODES: ReadonlyMap<string, number> = new Map([...LIBXC_NAMES].map(([c, n]) => [n, c]));
/** Records that exist only from version 3. */
export const LIBXC_V3_ONLY: ReadonlySet<number> = new Set(
  libxc.versions[libxc.versions.length - 1]!.records.filter((r) => r.since === "3").map((r) => r.code),
);

export const LIBXC_REC = {
  END: 0x00,
  PAGE_DATA: 0x01,
  X86_PV_INFO: 0x02,
  X86_PV_P2M_FRAMES: 0x03,
  X86_PV_VCPU_BASIC: 0x04,
  X86_PV_VCPU_EXTENDED: 0x05,
  X86_PV_VCPU_XSAVE: 0x06,
  SHARED_INFO: 0x07,
  X86_TSC_INFO: 0x08,
  HVM_CONTEXT: 0x09,
  HVM_PARAMS: 0x0a,
  TOOLSTACK: 0x0b,
  X86_PV_VCPU_MSRS: 0x0c,
  VERIFY: 0x0d,
  CHECKPOINT: 0x0e,
  CHECKPOINT_DIRTY_PFN_LIST: 0x0f,
  STATIC_DATA_END: 0x10,
  X86_CPUID_POLICY: 0x11,
  X86_MSR_POLICY: 0x12,
} as const;

export const libxcRecordName = (code: number): string =>
  LIBXC_NAMES.get(code) ?? `${code & 0x8000_0000 ? "optional" : "unknown"} 0x${code.toString(16).padStart(8, "0")}`;

export const domainTypeName = (t: number): string => (t === 1 ? "x86 PV" : t === 2 ? "x86 HVM" : `type ${t}`);
