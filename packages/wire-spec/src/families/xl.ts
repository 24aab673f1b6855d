import type { FamilySpec } from "../types.js";

/** 32 bytes, NUL at offset 29 included. */
export const XL_MAGIC = "Xen saved domain, xl format\n \0 \r";
export const XL_BYTEORDER = 0x0102_0304;

export const xl: FamilySpec = {
  name: "xl",
  title: "xl save file",
  doc: "docs/spec/xl.md",
  detection: "The 32-byte text magic \"Xen saved domain, xl format\\n \\0 \\r\".",
  evolution: "Unknown mandatory flags are refused; optional flags and optional data may grow.",
  versioning: "sequential",
  versions: [
    {
      version: "1",
      status: "current",
      headers: [
        {
          name: "xl header",
          size: 48,
          fields: [
            { name: "magic", type: "bytes", offset: 0, size: 32, value: XL_MAGIC },
            { name: "byteorder", type: "u32", offset: 32, order: "stream", value: XL_BYTEORDER, note: "saver's native order; defines the stream order" },
            { name: "mandatory_flags", type: "u32", offset: 36, order: "stream", bits: { 0: "JSON config", 1: "STREAMv2: a libxl stream follows (else legacy)" } },
            { name: "optional_flags", type: "u32", offset: 40, order: "stream", note: "none defined; ignored by xl" },
            { name: "optional_data_len", type: "u32", offset: 44, order: "stream", note: "then that many bytes: u32 config_len, config (JSON text + NUL), anything else skipped" },
          ],
        },
      ],
      records: [],
      changes: "The only xl header; the payload is a libxl stream when STREAMv2 is set, a legacy image otherwise.",
    },
  ],
};
