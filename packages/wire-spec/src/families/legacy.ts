import type { FamilySpec, LayoutSpec, RecordSpec, VersionSpec } from "../types.js";

/**
 * Negative chunk ids of the legacy libxc stream body ("XC_SAVE_ID_*"), by id.
 * Positive ids are page batches (the id is the page count), 0 ends the body.
 */
export const LEGACY_CHUNKS: Record<number, string> = {
  0: "end",
  [-1]: "enable_verify_mode",
  [-2]: "vcpu_info",
  [-3]: "hvm_ident_pt",
  [-4]: "hvm_vm86_tss",
  [-5]: "tmem",
  [-6]: "tmem_extra",
  [-7]: "tsc_info",
  [-8]: "hvm_console_pfn",
  [-9]: "last_checkpoint",
  [-10]: "hvm_acpi_ioports_location",
  [-11]: "hvm_viridian",
  [-12]: "compressed_data",
  [-13]: "enable_compression",
  [-14]: "hvm_generation_id_addr",
  [-15]: "hvm_paging_ring_pfn",
  [-16]: "hvm_monitor_ring_pfn",
  [-17]: "hvm_sharing_ring_pfn",
  [-18]: "toolstack",
  [-19]: "hvm_ioreq_server_pfn",
  [-20]: "hvm_nr_ioreq_server_pages",
};

/** The most negative chunk id any legacy writer used. */
export const LEGACY_CHUNK_MIN = -20;

/**
 * HVM-parameter chunks (`i32 id, u32 pad, u64 value`, 16 bytes) and the
 * HVM_PARAM_* index each becomes in a v2 HVM_PARAMS record. vm86_tss maps to
 * the old index 15, not VM86_TSS_SIZED (37), exactly as convert-legacy-stream does.
 */
export const LEGACY_HVM_PARAM_CHUNKS: Record<number, number> = {
  [-3]: 12, // IDENT_PT
  [-4]: 15, // VM86_TSS
  [-8]: 17, // CONSOLE_PFN
  [-10]: 19, // ACPI_IOPORTS_LOCATION
  [-11]: 9, // VIRIDIAN
  [-14]: 34, // VM_GENERATION_ID_ADDR
  [-15]: 27, // PAGING_RING_PFN
  [-16]: 28, // MONITOR_RING_PFN
  [-17]: 29, // SHARING_RING_PFN
  [-19]: 32, // IOREQ_SERVER_PFN
  [-20]: 33, // NR_IOREQ_SERVER_PAGES
};

/** HVM_PARAM_* indices of the three "magic" pfns at the start of the HVM tail, in tail order. */
export const LEGACY_HVM_TAIL_PARAMS = [5, 6, 1] as const; // IOREQ_PFN, BUFIOREQ_PFN, STORE_PFN

/** Largest page batch (pages per positive chunk) the legacy saver wrote. */
export const LEGACY_MAX_BATCH = 1024;
/** Largest vcpu id legacy save/restore supported. */
export const LEGACY_MAX_VCPU_ID = 4095;
/** Size of a page, and of the PV shared-info page in the tail. */
export const LEGACY_PAGE_SIZE = 4096;
/** The PV extended vcpu context in the tail when the "extv" block is present. */
export const LEGACY_EXTENDED_VCPU_SIZE = 128;
/** A batch entry exactly equal to this (XTAB, pfn 0) is filler the old saver left; the converter drops it. */
export const LEGACY_FILLER_PFN = 0xf000_0000;

/** PV extended-info blocks ("vcpu" size names the guest width). */
export const LEGACY_EXT_BLOCKS = ["vcpu", "extv", "xcnt"] as const;
/** vcpu_guest_context sizes in the "vcpu" block → guest width in bytes and page-table levels. */
export const LEGACY_VCPU_CONTEXT_SIZES: Record<number, { width: 4 | 8; levels: 3 | 4 }> = {
  0x1430: { width: 8, levels: 4 },
  0xaf0: { width: 4, levels: 3 },
};

/** 21-byte signatures of the QEMU record that follows an HVM image. */
export const LEGACY_QEMU_SIGNATURES = {
  toEof: "QemuDeviceModelRecord",
  sized: "DeviceModelRecord0002",
  remus: "RemusDeviceModelState",
} as const;

/** libxl "toolstack" blob version 1 physmap entry, before the name (28 bytes; 32 with a 64-bit toolstack's padding). */
export const legacyPhysmapEntry: LayoutSpec = {
  name: "physmap entry",
  size: null,
  fields: [
    { name: "phys_offset", type: "u64", offset: 0, order: "le" },
    { name: "start_addr", type: "u64", offset: 8, order: "le" },
    { name: "size", type: "u64", offset: 16, order: "le" },
    { name: "namelen", type: "u32", offset: 24, order: "le", note: "includes the NUL" },
    { name: "name", type: "bytes", offset: 28, note: "namelen bytes, NUL-terminated; a 64-bit toolstack leaves 4 stray bytes after it" },
  ],
};

const ulong = (w: "32" | "64") => (w === "32" ? "u32" : "u64") as "u32" | "u64";

const chunkRecords = (w: "32" | "64"): RecordSpec[] => {
  const param = (code: number): RecordSpec => ({
    code,
    name: LEGACY_CHUNKS[code]!,
    mandatory: true,
    body: {
      name: LEGACY_CHUNKS[code]!,
      size: 12,
      fields: [
        { name: "pad", type: "u32", offset: 0, order: "le" },
        { name: "value", type: "u64", offset: 4, order: "le" },
      ],
    },
    length: { exact: 12 },
    note: `HVM only; becomes HVM_PARAMS index ${LEGACY_HVM_PARAM_CHUNKS[code]}`,
  });
  return [
    { code: 0, name: "end", mandatory: true, body: "empty", length: { exact: 0 }, note: "ends the body; the tail follows" },
    {
      code: 1,
      name: "page_batch",
      mandatory: true,
      body: {
        name: "page batch",
        size: null,
        fields: [{ name: "pfn_type", type: "bytes", offset: 0, note: `count × ${ulong(w)}: type in bits 31–28, pfn in 27–0; then 4096 bytes per entry whose type is below 0xD` }],
      },
      length: { rule: `any positive id N ≤ ${LEGACY_MAX_BATCH} is a batch of N pages` },
    },
    { code: -1, name: "enable_verify_mode", mandatory: true, body: "empty", length: { exact: 0 } },
    {
      code: -2,
      name: "vcpu_info",
      mandatory: true,
      body: {
        name: "vcpu_info",
        size: null,
        fields: [
          { name: "max_vcpu_id", type: "i32", offset: 0, order: "le" },
          { name: "online", type: "bytes", offset: 4, note: "u64 bitmap words, max_vcpu_id/64 + 1 of them" },
        ],
      },
      length: { rule: `4 + 8·(max_vcpu_id/64 + 1); max_vcpu_id ≤ ${LEGACY_MAX_VCPU_ID}` },
    },
    param(-3),
    param(-4),
    { code: -5, name: "tmem", mandatory: true, body: "opaque", note: "never specified; not convertible" },
    { code: -6, name: "tmem_extra", mandatory: true, body: "opaque", note: "never specified; not convertible" },
    {
      code: -7,
      name: "tsc_info",
      mandatory: true,
      body: {
        name: "tsc_info",
        size: 20,
        fields: [
          { name: "mode", type: "u32", offset: 0, order: "le" },
          { name: "nsec", type: "u64", offset: 4, order: "le" },
          { name: "khz", type: "u32", offset: 12, order: "le" },
          { name: "incarnation", type: "u32", offset: 16, order: "le" },
        ],
      },
      length: { exact: 20 },
    },
    param(-8),
    { code: -9, name: "last_checkpoint", mandatory: true, body: "empty", length: { exact: 0 } },
    param(-10),
    param(-11),
    {
      code: -12,
      name: "compressed_data",
      mandatory: true,
      body: { name: "compressed_data", size: null, fields: [{ name: "size", type: "u32", offset: 0, order: "le" }, { name: "data", type: "bytes", offset: 4 }] },
      note: "Remus \"format B\"; not convertible",
    },
    { code: -13, name: "enable_compression", mandatory: true, body: "empty", length: { exact: 0 }, note: "not convertible" },
    param(-14),
    param(-15),
    param(-16),
    param(-17),
    {
      code: -18,
      name: "toolstack",
      mandatory: true,
      body: { name: "toolstack", size: null, fields: [{ name: "size", type: "u32", offset: 0, order: "le" }, { name: "data", type: "bytes", offset: 4, note: "libxl: version-1 physmap blob" }] },
    },
    param(-19),
    param(-20),
  ];
};

const header = (w: "32" | "64"): LayoutSpec => ({
  name: "legacy header",
  size: null,
  fields: [
    { name: "p2m_size", type: ulong(w), offset: 0, order: "le" },
    {
      name: "extended_info",
      type: "bytes",
      offset: w === "32" ? 4 : 8,
      note: "PV only: ulong ~0, u32 byte count, blocks {char id[4], u32 size, data}; then the p2m frame list ((p2m_size−1)/fpp + 1 ulongs)",
    },
  ],
});

const version = (w: "32" | "64"): VersionSpec => ({
  version: w,
  status: "historical",
  headers: [header(w)],
  records: chunkRecords(w),
  changes:
    w === "32"
      ? "Images saved by a 32-bit toolstack (unsigned long = 4 bytes)."
      : "Images saved by a 64-bit toolstack (unsigned long = 8 bytes); differs from 32 only in the width of native fields and the physmap padding.",
});

export const legacy: FamilySpec = {
  name: "legacy",
  title: "Legacy Xen save image (Xen ≤ 4.5)",
  doc: "docs/spec/legacy.md",
  detection:
    "No magic: anything else that is not v2. The toolstack width is read from octets 4–7 (p2m size / extended-info marker); an xl header without the STREAMv2 flag may precede it.",
  evolution: "Frozen: never extended; only converted to migration v2.",
  versioning: "variants",
  versions: [version("32"), version("64")],
  conversions: [
    // convert-legacy-stream writes image version 3 (with STATIC_DATA_END); `libxc@2` is accepted as a request for the same bytes.
    { from: { family: "legacy", version: "32" }, to: { family: "libxc", version: "3" }, kind: "cross", note: "convert-legacy-stream -w 32 -f libxc" },
    { from: { family: "legacy", version: "64" }, to: { family: "libxc", version: "3" }, kind: "cross", note: "convert-legacy-stream -w 64 -f libxc" },
    { from: { family: "legacy", version: "32" }, to: { family: "libxl", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 32 -f libxl" },
    { from: { family: "legacy", version: "64" }, to: { family: "libxl", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 64 -f libxl" },
  ],
};
