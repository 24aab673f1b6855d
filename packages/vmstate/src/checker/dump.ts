/**
 * `-dump-vmstate` JSON (savevm.c dump_vmstate_json_to_file) from our schemas,
 * so schema-diff can compare sample devices the same way it compares dumps
 * taken from real QEMU binaries.
 */
import type { FieldType, Vmsd, VmsdField } from "../schema/types.js";

export interface DumpField {
  field: string;
  version_id: number;
  field_exists: boolean;
  size: number;
  Description?: DumpDescription;
}

export interface DumpDescription {
  name: string;
  version_id: number;
  minimum_version_id: number;
  Fields?: DumpField[];
  Subsections?: DumpDescription[];
}

export interface DumpSection {
  Name: string;
  version_id: number;
  minimum_version_id: number;
  Description: DumpDescription;
}

/** A whole dump: `vmschkmachine` then one entry per device type. */
export type VmstateDump = { vmschkmachine?: { Name: string } } & { [section: string]: DumpSection | { Name: string } | undefined };

const C_SIZE: Partial<Record<FieldType, number>> = {
  bool: 1,
  int8: 1,
  uint8: 1,
  uint8_equal: 1,
  int16: 2,
  uint16: 2,
  uint16_equal: 2,
  int32: 4,
  uint32: 4,
  int32_equal: 4,
  uint32_equal: 4,
  int32_le: 4,
  int64: 8,
  uint64: 8,
  uint64_equal: 8,
  cpu_double: 8,
  float64: 8,
  timer: 8, // a QEMUTimer * in C; the dump prints sizeof(pointer) on 64-bit hosts
};

/** field->size as QEMU prints it: element size, the declared buffer size, 0 for VBUFFER. */
function fieldSize(f: VmsdField): number {
  if (f.cSize !== undefined) return f.cSize;
  const w = C_SIZE[f.type];
  if (w !== undefined) return w;
  // A VBUFFER prints its MULTIPLY factor (0 without one), as QEMU does.
  if (f.type === "buffer" || f.type === "unused_buffer") return f.size ?? 0;
  if (f.type === "struct" || f.type === "vstruct" || f.type === "tmp") return f.vmsd ? structBytes(f.vmsd, new Set()) : 0;
  return 0;
}

function structBytes(v: Vmsd, seen: Set<Vmsd>): number {
  if (seen.has(v)) return 0;
  seen.add(v);
  let n = 0;
  for (const f of v.fields) n += fieldSize(f) * (f.count ? 1 : (f.num ?? 1));
  seen.delete(v);
  return n;
}

export function dumpDescription(v: Vmsd, seen: Set<Vmsd> = new Set()): DumpDescription {
  const d: DumpDescription = { name: v.name, version_id: v.version, minimum_version_id: v.minimumVersion };
  if (seen.has(v)) return d; // a cyclic declaration; QEMU's dump would recurse forever
  seen.add(v);
  // VMSTATE_VALIDATE (MUST_EXIST) entries are left out, as QEMU does.
  d.Fields = v.fields
    .filter((f) => !f.mustExist)
    .map((f) => {
      const e: DumpField = { field: f.name, version_id: f.version ?? 0, field_exists: f.exists !== undefined, size: fieldSize(f) };
      if (f.vmsd) e.Description = dumpDescription(f.vmsd, seen);
      return e;
    });
  if (v.subsections.length > 0) d.Subsections = v.subsections.map((s) => dumpDescription(s, seen));
  seen.delete(v);
  return d;
}

/** The dump entry of one device whose section uses `schema`. */
export function dumpVmstate(schema: Vmsd, typeName: string = schema.name): DumpSection {
  return { Name: typeName, version_id: schema.version, minimum_version_id: schema.minimumVersion, Description: dumpDescription(schema) };
}

/** A whole `-dump-vmstate` document for a set of devices. */
export function dumpVmstateFile(devices: readonly { name: string; schema: Vmsd }[], machine = "vmstream-samples"): VmstateDump {
  const out: VmstateDump = { vmschkmachine: { Name: machine } };
  for (const d of devices) out[d.name] = dumpVmstate(d.schema, d.name);
  return out;
}
