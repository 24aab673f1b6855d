/**
 * The one table of vmdesc type names: what QEMU's saver writes as a field's
 * `"type"` (its VMStateInfo name), and how QEMU's analyze-migration.py prints
 * a field of that type. The interpreter writes vmdesc from it, from-vmdesc.ts
 * inverts it, and the stream codec reads vmdesc and prints the analyze view
 * with it.
 */
import type { FieldType } from "./types.js";

/** How analyze-migration.py prints a field (its reader class). */
export const Az = { Int: 0, UInt: 1, Bool: 2, Hex: 3, Struct: 4 } as const;
export type Az = (typeof Az)[keyof typeof Az];

/** Each field type's vmdesc name and analyze reader. */
export const VMDESC_TYPES: Record<FieldType, { name: string; az: Az }> = {
  bool: { name: "bool", az: Az.Bool },
  int8: { name: "int8", az: Az.Int },
  int16: { name: "int16", az: Az.Int },
  int32: { name: "int32", az: Az.Int },
  int64: { name: "int64", az: Az.Int },
  uint8: { name: "uint8", az: Az.UInt },
  uint16: { name: "uint16", az: Az.UInt },
  uint32: { name: "uint32", az: Az.UInt },
  uint64: { name: "uint64", az: Az.UInt },
  int32_equal: { name: "int32 equal", az: Az.Int },
  // The script reads these unsigned "equal" types as signed (its table says VMSDFieldInt).
  uint8_equal: { name: "uint8 equal", az: Az.Int },
  uint16_equal: { name: "uint16 equal", az: Az.Int },
  uint32_equal: { name: "uint32 equal", az: Az.UInt },
  uint64_equal: { name: "int64 equal", az: Az.Int }, // sic: vmstate_info_uint64_equal.name in QEMU 7.2
  int32_le: { name: "int32 le", az: Az.Int },
  timer: { name: "timer", az: Az.Hex },
  cpu_double: { name: "CPU_Double_U", az: Az.Hex },
  float64: { name: "float64", az: Az.Hex },
  buffer: { name: "buffer", az: Az.Hex },
  unused_buffer: { name: "unused_buffer", az: Az.Hex },
  bitmap: { name: "bitmap", az: Az.Hex },
  struct: { name: "struct", az: Az.Struct },
  vstruct: { name: "vstruct", az: Az.Hex },
  tmp: { name: "tmp", az: Az.Hex },
  qtailq: { name: "qtailq", az: Az.Hex },
  qlist: { name: "qlist", az: Az.Hex },
  gtree: { name: "gtree", az: Az.Hex },
  validate: { name: "validate", az: Az.Hex },
};

/** vmdesc type name → field type (the first field type with that name). */
export const FIELD_TYPE_OF: ReadonlyMap<string, FieldType> = new Map(
  (Object.entries(VMDESC_TYPES) as [FieldType, { name: string }][]).reverse().map(([t, e]) => [e.name, t]),
);

/** The analyze reader for a vmdesc type name; unknown (device-specific) names print as hex bytes. */
export function analyzeReader(typeName: string): Az {
  const t = FIELD_TYPE_OF.get(typeName);
  return t === undefined ? Az.Hex : VMDESC_TYPES[t].az;
}
