import type { FamilySpec, LayoutSpec } from "../types.js";
import { xenRecordHeader } from "./libxc.js";

export const LIBXL_IDENT = 0x4c69_6278_6c46_6d74n; // "LibxlFmt"

export const libxlHeader: LayoutSpec = {
  name: "libxl header",
  size: 16,
  fields: [
    { name: "ident", type: "u64", offset: 0, order: "be", value: LIBXL_IDENT },
    { name: "version", type: "u32", offset: 8, order: "be", value: 2 },
    { name: "options", type: "u32", offset: 12, order: "be", bits: { 0: "big-endian stream", 1: "legacy: produced by convert-legacy-stream" } },
  ],
};

const emulatorHeader = (name: string): LayoutSpec => ({
  name,
  size: null,
  fields: [
    { name: "emulator_id", type: "u32", offset: 0, order: "stream", values: { 0: "unknown", 1: "qemu-traditional", 2: "qemu-upstream" } },
    { name: "index", type: "u32", offset: 4, order: "stream" },
    { name: "data", type: "bytes", offset: 8 },
  ],
});

export const libxl: FamilySpec = {
  name: "libxl",
  title: "Xen libxl migration stream",
  doc: "docs/spec/libxl.md",
  detection: "The big-endian ident \"LibxlFmt\", then version 2.",
  evolution:
    "Same record framing and extension rules as libxc: new records get new types, bit 31 marks optional ones. libxl itself rejects every unknown record type, optional or not; vmstream carries optional ones with a note.",
  versioning: "sequential",
  versions: [
    {
      version: "2",
      status: "current",
      headers: [libxlHeader],
      recordHeader: xenRecordHeader,
      align: 8,
      records: [
        { code: 0, name: "END", mandatory: true, body: "empty", length: { exact: 0 } },
        { code: 1, name: "LIBXC_CONTEXT", mandatory: true, body: "empty", length: { exact: 0 }, note: "a libxc image follows inline" },
        {
          code: 2,
          name: "EMULATOR_XENSTORE_DATA",
          mandatory: true,
          body: emulatorHeader("EMULATOR_XENSTORE_DATA"),
          length: { min: 8 },
          note: "HVM only; data is key\\0value\\0… (NUL-terminated, an even number of strings)",
        },
        { code: 3, name: "EMULATOR_CONTEXT", mandatory: true, body: emulatorHeader("EMULATOR_CONTEXT"), length: { min: 8 }, note: "HVM only; opaque device-model blob" },
        {
          code: 4,
          name: "CHECKPOINT_END",
          mandatory: true,
          body: "empty",
          length: { exact: 0 },
          note: "only after the libxc part stopped at CHECKPOINT; libxc records (no headers) follow it, and a stream may end right after it (failover point)",
        },
        {
          code: 5,
          name: "CHECKPOINT_STATE",
          mandatory: true,
          body: { name: "CHECKPOINT_STATE", size: 4, fields: [{ name: "control_id", type: "u32", offset: 0, order: "stream" }] },
          length: { exact: 4 },
          note: "COLO back channel: 0 NEW, 1 SVM_SUSPENDED, 2 SVM_READY, 3 SVM_RESUMED",
        },
      ],
      changes: "The first libxl stream format (Xen 4.6); \"version 1\" names a legacy stream with no libxl header.",
    },
  ],
};
