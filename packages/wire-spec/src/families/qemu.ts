import type { FamilySpec, LayoutSpec, RecordSpec } from "../types.js";

export const QEMU_VM_FILE_MAGIC = 0x5145_564d; // "QEVM"

export const QEMU_SECTION = {
  EOF: 0x00,
  SECTION_START: 0x01,
  SECTION_PART: 0x02,
  SECTION_END: 0x03,
  SECTION_FULL: 0x04,
  SUBSECTION: 0x05,
  VMDESCRIPTION: 0x06,
  CONFIGURATION: 0x07,
  COMMAND: 0x08,
  SECTION_FOOTER: 0x7e,
} as const;

/**
 * Format 4 only: written after the subsections of every VMState description
 * (section bodies, subsections, struct/vstruct elements, tmp, qtailq/qlist/gtree
 * elements), so a reader never has to guess where subsections end.
 */
export const QEMU_VM_SUBSECTIONS_END = 0x09;

const fileHeader = (v: number): LayoutSpec => ({
  name: "file header",
  size: 8,
  fields: [
    { name: "magic", type: "u32", offset: 0, order: "be", value: QEMU_VM_FILE_MAGIC },
    { name: "version", type: "u32", offset: 4, order: "be", value: v },
  ],
});

const sections: RecordSpec[] = [
  { code: QEMU_SECTION.EOF, name: "EOF", mandatory: true, body: "empty" },
  { code: QEMU_SECTION.SECTION_START, name: "SECTION_START", mandatory: true, body: "opaque", note: "u32 id, u8 len + idstr, u32 instance, u32 version, payload" },
  { code: QEMU_SECTION.SECTION_PART, name: "SECTION_PART", mandatory: true, body: "opaque", note: "u32 id, payload" },
  { code: QEMU_SECTION.SECTION_END, name: "SECTION_END", mandatory: true, body: "opaque", note: "u32 id, payload" },
  { code: QEMU_SECTION.SECTION_FULL, name: "SECTION_FULL", mandatory: true, body: "opaque", note: "as START" },
  { code: QEMU_SECTION.SUBSECTION, name: "SUBSECTION", mandatory: true, body: "opaque", note: "inside VMState data only" },
  { code: QEMU_SECTION.VMDESCRIPTION, name: "VMDESCRIPTION", mandatory: false, body: "opaque", note: "after EOF: u32 length + JSON" },
  { code: QEMU_SECTION.CONFIGURATION, name: "CONFIGURATION", mandatory: true, body: "opaque", note: "directly after the header" },
  { code: QEMU_SECTION.COMMAND, name: "COMMAND", mandatory: true, body: "opaque", note: "u16 cmd, u16 len, data" },
  { code: QEMU_SECTION.SECTION_FOOTER, name: "SECTION_FOOTER", mandatory: true, body: "opaque", note: "u32 section id" },
];

export const qemu: FamilySpec = {
  name: "qemu",
  title: "QEMU savevm / migration stream",
  doc: "docs/spec/qemu.md",
  detection: "The big-endian magic \"QEVM\" and the file version (3 written by QEMU; 4 the unambiguous variant).",
  evolution:
    "Device state grows by subsections (skippable when not needed) or by bumping a device's version_id; the file version changes only when the framing itself changes.",
  versioning: "sequential",
  versions: [
    {
      version: "3",
      status: "current",
      headers: [fileHeader(3)],
      records: sections,
      changes: "The savevm v3 protocol (QEMU 0.10, 2008), written by every QEMU since 0.13.",
    },
    {
      version: "4",
      status: "proposed",
      headers: [fileHeader(4)],
      records: [...sections, { code: QEMU_VM_SUBSECTIONS_END, name: "SUBSECTIONS_END", mandatory: true, body: "empty", since: "4", note: "after the subsections of every VMState description (section body, subsection, struct element, tmp, list element)" }],
      changes:
        "The unambiguous format proposed in 2011: a SUBSECTIONS_END sentinel after the subsections of every VMState description, so a reader never has to guess whether a 0x05 byte starts a subsection or belongs to the parent.",
    },
  ],
};

/**
 * RAM section ("ram", version 4) record flags: the low bits of each record's
 * be64 word, below the target page size (migration/ram.c). `flags & ~CONTINUE`
 * must be exactly one of ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, HOOK, COMPRESS_PAGE
 * or MULTIFD_FLUSH.
 */
export const QEMU_RAM_FLAG = {
  FULL: 0x01,
  ZERO: 0x02,
  MEM_SIZE: 0x04,
  PAGE: 0x08,
  EOS: 0x10,
  CONTINUE: 0x20,
  XBZRLE: 0x40,
  HOOK: 0x80,
  COMPRESS_PAGE: 0x100,
  MULTIFD_FLUSH: 0x200,
} as const;

/** QEMU_VM_COMMAND numbers, names and fixed payload lengths (-1: variable). */
export const QEMU_COMMANDS: Readonly<Record<number, { name: string; len: number }>> = {
  1: { name: "OPEN_RETURN_PATH", len: 0 },
  2: { name: "PING", len: 4 },
  3: { name: "POSTCOPY_ADVISE", len: -1 },
  4: { name: "POSTCOPY_LISTEN", len: 0 },
  5: { name: "POSTCOPY_RUN", len: 0 },
  6: { name: "POSTCOPY_RAM_DISCARD", len: -1 },
  7: { name: "PACKAGED", len: 4 },
  8: { name: "ENABLE_COLO", len: 0 },
  9: { name: "POSTCOPY_RESUME", len: 0 },
  10: { name: "RECV_BITMAP", len: -1 },
  11: { name: "SWITCHOVER_START", len: 0 },
};

/**
 * mapped-ram (QEMU 9.0+): the header that follows each block's name and
 * length (and x-ignore-shared address) in the MEM_SIZE record of a file
 * written with the `mapped-ram` capability. The bitmap (one bit per page,
 * little-endian 64-bit words) lies at `bitmap_offset`; page N at
 * `pages_offset + N × page_size`; the stream resumes at `pages_offset + length`.
 */
export const QEMU_MAPPED_RAM_HEADER: LayoutSpec = {
  name: "mapped-ram block header",
  size: 28,
  fields: [
    { name: "version", type: "u32", offset: 0, order: "be", value: 1 },
    { name: "page_size", type: "u64", offset: 4, order: "be", note: "the target page size; must equal the stream's" },
    { name: "bitmap_offset", type: "u64", offset: 12, order: "be", note: "file offset of the block's page bitmap: ceil(pages / 64) little-endian u64 words" },
    { name: "pages_offset", type: "u64", offset: 20, order: "be", note: "file offset of page 0; a multiple of 1 MiB, after the bitmap" },
  ],
};

/** File offsets of mapped-ram pages are multiples of this. */
export const QEMU_MAPPED_RAM_ALIGN = 0x100000;

/**
 * The `s390-storage_attributes` iterable section (version 0, s390x guests
 * with CMMA): records `be64 (gfn << 12) | flags`; MORE is followed by
 * `be64 count` and count attribute bytes; each part ends with EOS.
 */
export const QEMU_S390_STATTR_FLAG = { EOS: 0x01, MORE: 0x02, ERROR: 0x04, DONE: 0x08 } as const;

/** A QEMU release, as "major.minor". */
export type QemuRelease = string;

/**
 * One thing QEMU puts on the wire, and which releases write it. `since` is the
 * first release that writes it (from QEMU's history; "≤ X" where only an upper
 * bound is certain), `until` the last one where it was removed. `fixtures`
 * lists the releases whose real streams in fixtures/qemu and
 * fixtures/qemu-releases carry it (checked against the bytes by a test).
 */
export interface QemuWireFeature {
  kind: "section type" | "command" | "RAM flag" | "RAM block field" | "configuration" | "file layout" | "iterable section";
  name: string;
  code?: number;
  since: QemuRelease;
  until?: QemuRelease;
  /** What makes QEMU write it. */
  when: string;
  fixtures: QemuRelease[];
}

/** Releases with real streams in fixtures/. */
export const QEMU_FIXTURE_RELEASES: readonly QemuRelease[] = ["5.2", "7.2", "10.0"];

export const QEMU_WIRE_FEATURES: readonly QemuWireFeature[] = [
  { kind: "section type", name: "EOF", code: 0x00, since: "0.10", when: "always", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "SECTION_START / PART / END", code: 0x01, since: "0.10", when: "iterable sections (ram, block, dirty bitmaps, s390 attributes)", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "SECTION_FULL", code: 0x04, since: "0.10", when: "every device", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "SUBSECTION", code: 0x05, since: "0.13", when: "a device's optional state is needed", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "VMDESCRIPTION", code: 0x06, since: "2.3", when: "after EOF, unless suppress-vmdesc (machine types ≤ 2.2) or postcopy", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "CONFIGURATION", code: 0x07, since: "2.4", when: "machine types ≥ 2.4", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "section type", name: "COMMAND", code: 0x08, since: "2.5", when: "postcopy, return path, PING, 10.0's SWITCHOVER_START", fixtures: ["7.2", "10.0"] },
  { kind: "section type", name: "SECTION_FOOTER", code: 0x7e, since: "2.4", when: "machine types ≥ 2.4", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "command", name: "OPEN_RETURN_PATH", code: 1, since: "2.5", when: "postcopy or return-path migrations", fixtures: ["7.2", "10.0"] },
  { kind: "command", name: "PING", code: 2, since: "2.5", when: "postcopy-ram (after ADVISE, and inside PACKAGED), COLO", fixtures: ["7.2", "10.0"] },
  { kind: "command", name: "POSTCOPY_ADVISE", code: 3, since: "2.5", when: "postcopy-ram capability", fixtures: ["7.2", "10.0"] },
  { kind: "command", name: "POSTCOPY_LISTEN", code: 4, since: "2.5", when: "postcopy once it starts (a stopped VM completes in precopy), inside PACKAGED", fixtures: [] },
  { kind: "command", name: "POSTCOPY_RUN", code: 5, since: "2.5", when: "postcopy once it starts, inside PACKAGED", fixtures: [] },
  { kind: "command", name: "POSTCOPY_RAM_DISCARD", code: 6, since: "2.5", when: "postcopy switch-over with pages dirtied since they were sent", fixtures: [] },
  { kind: "command", name: "PACKAGED", code: 7, since: "2.5", when: "postcopy once it starts: the device state as one nested stream", fixtures: [] },
  { kind: "command", name: "ENABLE_COLO", code: 8, since: "≤ 3.0", when: "x-colo capability", fixtures: [] },
  { kind: "command", name: "POSTCOPY_RESUME", code: 9, since: "3.0", when: "recovering a paused postcopy (return channel only)", fixtures: [] },
  { kind: "command", name: "RECV_BITMAP", code: 10, since: "3.0", when: "recovering a paused postcopy (return channel only)", fixtures: [] },
  { kind: "command", name: "SWITCHOVER_START", code: 11, since: "10.0", when: "machine types ≥ 10.0 (send-switchover-start), before the final device state", fixtures: ["10.0"] },
  { kind: "RAM flag", name: "FULL", code: 0x01, since: "0.10", until: "0.12", when: "obsolete: never written by the v4 RAM section", fixtures: [] },
  { kind: "RAM flag", name: "ZERO", code: 0x02, since: "0.13", when: "a page of one byte value (zero-page-detection legacy)", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "RAM flag", name: "MEM_SIZE", code: 0x04, since: "0.13", when: "once, the block list, at the start of the RAM section", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "RAM flag", name: "PAGE", code: 0x08, since: "0.13", when: "a page sent whole", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "RAM flag", name: "EOS", code: 0x10, since: "0.13", when: "end of each RAM section part", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "RAM flag", name: "CONTINUE", code: 0x20, since: "0.13", when: "a page of the block the previous page named", fixtures: ["5.2", "7.2", "10.0"] },
  { kind: "RAM flag", name: "XBZRLE", code: 0x40, since: "1.2", when: "xbzrle capability, a page dirtied since it was sent and found in the cache", fixtures: ["10.0"] },
  { kind: "RAM flag", name: "HOOK", code: 0x80, since: "2.0", when: "rdma: migrations only (never in a file)", fixtures: [] },
  { kind: "RAM flag", name: "COMPRESS_PAGE", code: 0x100, since: "2.4", until: "9.0", when: "compress capability (removed in 9.1)", fixtures: ["7.2"] },
  { kind: "RAM flag", name: "MULTIFD_FLUSH", code: 0x200, since: "8.0", when: "multifd capability, machine types ≥ 8.0, once per dirty-bitmap round (not with mapped-ram)", fixtures: [] },
  { kind: "RAM block field", name: "page size (be64)", since: "2.9", when: "after POSTCOPY_ADVISE, a block whose page size differs from the host's", fixtures: [] },
  { kind: "RAM block field", name: "mr_addr (be64)", since: "4.0", when: "x-ignore-shared capability", fixtures: [] },
  { kind: "RAM block field", name: "mapped-ram header", since: "9.0", when: "mapped-ram capability (file: URIs), with or without multifd", fixtures: ["10.0"] },
  { kind: "file layout", name: "mapped-ram bitmaps and pages at file offsets", since: "9.0", when: "mapped-ram capability; the file is sparse", fixtures: ["10.0"] },
  { kind: "configuration", name: "configuration/target-page-bits", since: "2.10", when: "targets whose page size varies (not x86)", fixtures: [] },
  { kind: "configuration", name: "configuration/capabilities", since: "4.0", when: "a capability the destination must share is on (x-ignore-shared, mapped-ram…)", fixtures: ["10.0"] },
  { kind: "configuration", name: "configuration/uuid", since: "4.2", when: "validate-uuid capability", fixtures: ["7.2", "10.0"] },
  { kind: "iterable section", name: "s390-storage_attributes", since: "2.10", when: "s390x guests with CMMA (KVM)", fixtures: [] },
];
