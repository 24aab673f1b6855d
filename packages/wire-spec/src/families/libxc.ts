import type { FamilySpec, LayoutSpec, RecordSpec } from "../types.js";

export const LIBXC_MARKER = 0xffff_ffff_ffff_ffffn;
export const LIBXC_ID = 0x5845_4e46; // "XENF"
/** libxc refuses record bodies above this (REC_LENGTH_MAX). */
export const LIBXC_REC_LENGTH_MAX = 128 << 20;

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
    length: { min: 8, multipleOf: 8 },
  },
  { code: 0x04, name: "X86_PV_VCPU_BASIC", mandatory: true, body: vcpuHeader("X86_PV_VCPU_BASIC"), length: { min: 8 } },
  { code: 0x05, name: "X86_PV_VCPU_EXTENDED", mandatory: true, body: vcpuHeader("X86_PV_VCPU_EXTENDED"), length: { min: 8, max: 8 + 128 } },
  { code: 0x06, name: "X86_PV_VCPU_XSAVE", mandatory: true, body: vcpuHeader("X86_PV_VCPU_XSAVE"), length: { min: 8 } },
  { code: 0x07, name: "SHARED_INFO", mandatory: true, body: "opaque", length: { exact: 4096 } },
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
    length: { min: 8, rule: "8 + 16·count" },
  },
  { code: 0x0b, name: "TOOLSTACK", mandatory: true, body: "opaque", note: "deprecated; never written by v2 senders" },
  { code: 0x0c, name: "X86_PV_VCPU_MSRS", mandatory: true, body: vcpuHeader("X86_PV_VCPU_MSRS"), length: { min: 8, rule: "8 + 16·n" } },
  { code: 0x0d, name: "VERIFY", mandatory: true, body: "empty", length: { exact: 0 } },
  { code: 0x0e, name: "CHECKPOINT", mandatory: true, body: "empty", length: { exact: 0 } },
  { code: 0x0f, name: "CHECKPOINT_DIRTY_PFN_LIST", mandatory: true, body: "opaque", length: { multipleOf: 8 } },
];

const v3Records: RecordSpec[] = [
  { code: 0x10, name: "STATIC_DATA_END", mandatory: true, body: "empty", length: { exact: 0 }, since: "3" },
  { code: 0x11, name: "X86_CPUID_POLICY", mandatory: true, body: "opaque", length: { min: 24, multipleOf: 24 }, since: "3" },
  { code: 0x12, name: "X86_MSR_POLICY", mandatory: true, body: "opaque", length: { min: 16, multipleOf: 16 }, since: "3" },
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
