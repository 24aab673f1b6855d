import type { FamilySpec, LayoutSpec, RecordSpec } from "../types.js";

export const LIBXC_MARKER = 0xffff_ffff_ffff_ffffn;
export const LIBXC_ID = 0x5845_4e46; // "XENF"
/** libxc refuses record bodies above this (REC_LENGTH_MAX). */
export const LIBXC_REC_LENGTH_MAX = 128 << 20;
/** x86 pages: the only page size libxc restore accepts. */
export const LIBXC_PAGE_SHIFT = 12;
/** Writer batch limit (MAX_BATCH_SIZE): pfns per PAGE_DATA record. */
export const LIBXC_MAX_BATCH = 1024;

export const LIBXC_DOMAIN_TYPES: Readonly<Record<number, string>> = { 1: "x86 PV", 2: "x86 HVM" };

/**
 * PAGE_DATA pfn types: the XEN_DOMCTL_PFINFO_* nibble kept in bits 63–60 of
 * each pfn word. `data`: a page of contents follows for this entry. 5–8 are
 * reserved (a restore fails on them).
 */
export const LIBXC_PAGE_TYPES: ReadonlyArray<{ nibble: number; name: string; data: boolean } | null> = [
  { nibble: 0x0, name: "NOTAB", data: true },
  { nibble: 0x1, name: "L1TAB", data: true },
  { nibble: 0x2, name: "L2TAB", data: true },
  { nibble: 0x3, name: "L3TAB", data: true },
  { nibble: 0x4, name: "L4TAB", data: true },
  null,
  null,
  null,
  null,
  { nibble: 0x9, name: "L1TAB_PIN", data: true },
  { nibble: 0xa, name: "L2TAB_PIN", data: true },
  { nibble: 0xb, name: "L3TAB_PIN", data: true },
  { nibble: 0xc, name: "L4TAB_PIN", data: true },
  { nibble: 0xd, name: "BROKEN", data: false },
  { nibble: 0xe, name: "XALLOC", data: false },
  { nibble: 0xf, name: "XTAB", data: false },
];

/** Size of a vcpu_guest_context, by guest width in bytes (X86_PV_VCPU_BASIC blob). */
export const LIBXC_VCPU_CONTEXT_SIZE: Readonly<Record<number, number>> = { 4: 0xaf0, 8: 0x1430 };

/** Which guest types a record belongs to (restore of the other type fails on it). */
export type LibxcGuestScope = "pv" | "hvm" | "all" | "none";

export const libxcImageHeader: LayoutSpec = {
  name: "image header",
  size: 24,
  fields: [
    { name: "marker", type: "u64", offset: 0, order: "be", value: LIBXC_MARKER },
    { name: "id", type: "u32", offset: 8, order: "be", value: LIBXC_ID },
    { name: "version", type: "u32", offset: 12, order: "be" },
    { name: "options", type: "u16", offset: 16, order: "be", bits: { 0: "big-endian stream" } },
    { name: "reserved1", type: "u16", offset: 18, order: "be", reserved: true },
    { name: "reserved2", type: "u32", offset: 20, order: "be", reserved: true },
  ],
};

export const libxcDomainHeader: LayoutSpec = {
  name: "domain header",
  size: 16,
  fields: [
    { name: "type", type: "u32", offset: 0, order: "stream", values: { 1: "x86 PV", 2: "x86 HVM" } },
    { name: "page_shift", type: "u16", offset: 4, order: "stream" },
    { name: "reserved", type: "u16", offset: 6, order: "stream", reserved: true },
    { name: "xen_major", type: "u32", offset: 8, order: "stream", note: "0 = produced by the legacy converter" },
    { name: "xen_minor", type: "u32", offset: 12, order: "stream" },
  ],
};

export const xenRecordHeader: LayoutSpec = {
  name: "record header",
  size: 8,
  fields: [
    { name: "type", type: "u32", offset: 0, order: "stream", note: "bit 31 set = optional record" },
    { name: "body_length", type: "u32", offset: 4, order: "stream", note: "padding excluded" },
  ],
};

const vcpuHeader = (name: string): LayoutSpec => ({
  name,
  size: null,
  fields: [
    { name: "vcpu_id", type: "u32", offset: 0, order: "stream" },
    { name: "reserved", type: "u32", offset: 4, order: "stream", reserved: true },
    { name: "context", type: "bytes", offset: 8 },
  ],
});

const v2Records: RecordSpec[] = [
  { code: 0x00, name: "END", mandatory: true, body: "empty", length: { exact: 0 } },
  {
    code: 0x01,
    name: "PAGE_DATA",
    mandatory: true,
    body: {
      name: "PAGE_DATA",
      size: null,
      fields: [
        { name: "count", type: "u32", offset: 0, order: "stream" },
        { name: "reserved", type: "u32", offset: 4, order: "stream", reserved: true },
        { name: "pfn", type: "bytes", offset: 8, note: "count × u64: pfn in bits 0–51, type in bits 60–63, bits 52–59 zero; then 4096 bytes per data-bearing pfn" },
      ],
    },
    length: { min: 16, rule: "8 + 8·count + 4096·(data-bearing pfns); count ≥ 1" },
  },
  {
    code: 0x02,
    name: "X86_PV_INFO",
    mandatory: true,
    body: {
      name: "X86_PV_INFO",
      size: 8,
      fields: [
        { name: "guest_width", type: "u8", offset: 0 },
        { name: "pt_levels", type: "u8", offset: 1 },
        { name: "reserved", type: "bytes", offset: 2, size: 6, reserved: true },
      ],
    },
    length: { exact: 8 },
  },
  {
    code: 0x03,
    name: "X86_PV_P2M_FRAMES",
    mandatory: true,
    body: {
      name: "X86_PV_P2M_FRAMES",
      size: null,
      fields: [
        { name: "p2m_start_pfn", type: "u32", offset: 0, order: "stream" },
        { name: "p2m_end_pfn", type: "u32", offset: 4, order: "stream" },
        { name: "frames", type: "bytes", offset: 8, note: "u64 per frame" },
      ],
    },
    length: { min: 8, multipleOf: 8, rule: "8 + 8·(end/fpp + 1 − start/fpp), fpp = 4096 / guest_width; start ≤ end" },
    note: "requires X86_PV_INFO before it",
  },
  {
    code: 0x04,
    name: "X86_PV_VCPU_BASIC",
    mandatory: true,
    body: vcpuHeader("X86_PV_VCPU_BASIC"),
    length: { min: 8, rule: "8 (empty, tolerated: Errata 1) or 8 + vcpu_guest_context (0xaf0 for 32-bit guests, 0x1430 for 64-bit)" },
  },
  { code: 0x05, name: "X86_PV_VCPU_EXTENDED", mandatory: true, body: vcpuHeader("X86_PV_VCPU_EXTENDED"), length: { min: 8, max: 8 + 128 } },
  {
    code: 0x06,
    name: "X86_PV_VCPU_XSAVE",
    mandatory: true,
    body: vcpuHeader("X86_PV_VCPU_XSAVE"),
    length: { min: 8, rule: "8 (empty, tolerated: Errata 1) or at least 8 + 16" },
  },
  { code: 0x07, name: "SHARED_INFO", mandatory: true, body: "opaque", length: { exact: 4096 }, note: "requires X86_PV_INFO before it" },
  {
    code: 0x08,
    name: "X86_TSC_INFO",
    mandatory: true,
    body: {
      name: "X86_TSC_INFO",
      size: 24,
      fields: [
        { name: "mode", type: "u32", offset: 0, order: "stream" },
        { name: "khz", type: "u32", offset: 4, order: "stream" },
        { name: "nsec", type: "u64", offset: 8, order: "stream" },
        { name: "incarnation", type: "u32", offset: 16, order: "stream" },
        { name: "reserved", type: "u32", offset: 20, order: "stream", reserved: true },
      ],
    },
    length: { exact: 24 },
  },
  { code: 0x09, name: "HVM_CONTEXT", mandatory: true, body: "opaque", length: { min: 1 } },
  {
    code: 0x0a,
    name: "HVM_PARAMS",
    mandatory: true,
    body: {
      name: "HVM_PARAMS",
      size: null,
      fields: [
        { name: "count", type: "u32", offset: 0, order: "stream" },
        { name: "reserved", type: "u32", offset: 4, order: "stream", reserved: true },
        { name: "params", type: "bytes", offset: 8, note: "count × {u64 index, u64 value}" },
      ],
    },
    length: { min: 8, rule: "8 + 16·count; count 0 tolerated (Errata 1)" },
  },
  { code: 0x0b, name: "TOOLSTACK", mandatory: true, body: "opaque", note: "deprecated; never written by v2 senders, and restore fails on it" },
  { code: 0x0c, name: "X86_PV_VCPU_MSRS", mandatory: true, body: vcpuHeader("X86_PV_VCPU_MSRS"), length: { min: 8, rule: "8 + 16·n: {u32 index, u32 reserved, u64 value}" } },
  { code: 0x0d, name: "VERIFY", mandatory: true, body: "empty", length: { exact: 0 } },
  {
    code: 0x0e,
    name: "CHECKPOINT",
    mandatory: true,
    body: "empty",
    length: { exact: 0 },
    note: "end of one consistent snapshot; an embedded stream hands control back to libxl, which later hands it back for more records (no new headers)",
  },
  {
    code: 0x0f,
    name: "CHECKPOINT_DIRTY_PFN_LIST",
    mandatory: true,
    body: "opaque",
    length: { multipleOf: 8 },
    note: "u64 pfn[length/8]; COLO back channel (secondary → primary) only, never valid in a saved or forward stream",
  },
];

/** Guest types each record is valid in; "none": never valid in a forward stream. */
export const LIBXC_RECORD_SCOPE: Readonly<Record<number, LibxcGuestScope>> = {
  0x00: "all", 0x01: "all", 0x02: "pv", 0x03: "pv", 0x04: "pv", 0x05: "pv", 0x06: "pv", 0x07: "pv",
  0x08: "all", 0x09: "hvm", 0x0a: "hvm", 0x0b: "none", 0x0c: "pv", 0x0d: "all", 0x0e: "all", 0x0f: "none",
  0x10: "all", 0x11: "all", 0x12: "all",
};

const v3Records: RecordSpec[] = [
  {
    code: 0x10,
    name: "STATIC_DATA_END",
    mandatory: true,
    body: "empty",
    length: { exact: 0 },
    since: "3",
    note: "exactly once, after X86_PV_INFO and the policies and before any memory or register content; a v3 reader infers it for v2 streams at the first X86_PV_P2M_FRAMES (PV) or PAGE_DATA (HVM)",
  },
  {
    code: 0x11,
    name: "X86_CPUID_POLICY",
    mandatory: true,
    body: {
      name: "xen_cpuid_leaf_t",
      size: 24,
      fields: [
        { name: "leaf", type: "u32", offset: 0, order: "stream" },
        { name: "subleaf", type: "u32", offset: 4, order: "stream", note: "0xffffffff: no subleaf" },
        { name: "a", type: "u32", offset: 8, order: "stream" },
        { name: "b", type: "u32", offset: 12, order: "stream" },
        { name: "c", type: "u32", offset: 16, order: "stream" },
        { name: "d", type: "u32", offset: 20, order: "stream" },
      ],
      note: "the body is an array of these",
    },
    length: { min: 24, multipleOf: 24 },
    since: "3",
  },
  {
    code: 0x12,
    name: "X86_MSR_POLICY",
    mandatory: true,
    body: {
      name: "xen_msr_entry_t",
      size: 16,
      fields: [
        { name: "idx", type: "u32", offset: 0, order: "stream" },
        { name: "flags", type: "u32", offset: 4, order: "stream", reserved: true },
        { name: "val", type: "u64", offset: 8, order: "stream" },
      ],
      note: "the body is an array of these",
    },
    length: { min: 16, multipleOf: 16 },
    since: "3",
  },
];

export const libxc: FamilySpec = {
  name: "libxc",
  title: "Xen libxc domain image (migration stream v2)",
  doc: "docs/spec/libxc.md",
  detection: "An 8-byte marker of all ones, then the big-endian id \"XENF\" and the version.",
  evolution:
    "New data goes in new record types; bit 31 marks a record a receiver may skip. A record's body never grows in place. Changing a header or the meaning of a record bumps the version.",
  versioning: "sequential",
  versions: [
    {
      version: "2",
      status: "supported",
      headers: [libxcImageHeader, libxcDomainHeader],
      recordHeader: xenRecordHeader,
      align: 8,
      records: v2Records,
      changes: "Migration v2 (Xen 4.6): replaces the legacy stream with a self-describing, width-independent, record-based format.",
    },
    {
      version: "3",
      status: "current",
      headers: [libxcImageHeader, libxcDomainHeader],
      recordHeader: xenRecordHeader,
      align: 8,
      records: [...v2Records, ...v3Records],
      changes:
        "Xen 4.14 adds STATIC_DATA_END and the CPUID/MSR policy records so the receiver learns the guest's static configuration before memory; a v3 reader infers STATIC_DATA_END for v2 streams.",
    },
  ],
};
