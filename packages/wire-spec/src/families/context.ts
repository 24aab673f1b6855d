import type { FamilySpec, LayoutSpec, RecordSpec } from "../types.js";

export const CONTEXT_MAGIC = 0x5341_5645; // "SAVE"

const header1: LayoutSpec = {
  name: "HEADER record body",
  size: 12,
  fields: [
    { name: "magic", type: "u32", offset: 0, order: "le", value: CONTEXT_MAGIC },
    { name: "xen_major", type: "u16", offset: 4, order: "le" },
    { name: "xen_minor", type: "u16", offset: 6, order: "le" },
    { name: "version", type: "u32", offset: 8, order: "le", value: 1 },
  ],
};

const descriptor1: LayoutSpec = {
  name: "record descriptor",
  size: 8,
  fields: [
    { name: "type", type: "u16", offset: 0, order: "le" },
    { name: "instance", type: "u16", offset: 2, order: "le" },
    { name: "length", type: "u32", offset: 4, order: "le", note: "body bytes, padding excluded" },
  ],
};

const header2: LayoutSpec = {
  name: "stream header",
  size: 16,
  fields: [
    { name: "magic", type: "u32", offset: 0, order: "be", value: CONTEXT_MAGIC },
    { name: "version", type: "u32", offset: 4, order: "be", value: 2 },
    { name: "options", type: "u16", offset: 8, order: "be", bits: { 0: "records are big-endian" } },
    { name: "reserved", type: "u16", offset: 10, order: "be", reserved: true },
    { name: "xen_major", type: "u16", offset: 12, order: "be" },
    { name: "xen_minor", type: "u16", offset: 14, order: "be" },
  ],
};

const descriptor2: LayoutSpec = {
  name: "record descriptor",
  size: 16,
  fields: [
    { name: "type", type: "u32", offset: 0, order: "stream" },
    { name: "instance", type: "u32", offset: 4, order: "stream" },
    { name: "length", type: "u64", offset: 8, order: "stream", note: "body bytes, padding excluded" },
  ],
};

const END: RecordSpec = { code: 0, name: "END", mandatory: true, body: "empty", length: { exact: 0 }, note: "last record; nothing may follow" };

export const context: FamilySpec = {
  name: "context",
  title: "Xen domain context stream",
  doc: "docs/spec/context.md",
  detection:
    "Version 1 starts with a HEADER descriptor (01 00 00 00, length 12) whose body starts with the little-endian magic; version 2 starts with the big-endian magic 53 41 56 45 and version 2.",
  evolution:
    "New state travels in new record types; a record's body layout never changes in place. Any change to a header or descriptor layout, to the alignment, or to the meaning of an existing type requires a new stream version. Readers reject unknown header versions; unknown record types are carried as opaque records.",
  versioning: "sequential",
  versions: [
    {
      version: "1",
      status: "historical",
      headers: [],
      recordHeader: descriptor1,
      align: 8,
      records: [
        END,
        { code: 1, name: "HEADER", mandatory: true, body: header1, length: { exact: 12 }, note: "first record, instance 0" },
      ],
      changes:
        "The layout first proposed for the domain context (2020): a descriptor {u16 type, u16 instance, u32 length} and the version inside a HEADER record.",
    },
    {
      version: "2",
      status: "current",
      headers: [header2],
      recordHeader: descriptor2,
      align: 8,
      records: [END, { code: 1, name: "RESERVED_HEADER", mandatory: true, body: "empty", note: "reserved: the header moved out of the record list; type 1 is refused" }],
      changes:
        "The version must be known before any descriptor is parsed, so a fixed big-endian header comes first; descriptors widen to {u32 type, u32 instance, u64 length} so instances and lengths can grow; records may be big-endian (options bit 0).",
    },
  ],
  conversions: [],
};
