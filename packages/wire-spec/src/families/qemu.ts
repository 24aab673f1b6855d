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
