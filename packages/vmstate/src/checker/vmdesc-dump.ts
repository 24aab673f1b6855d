/**
 * A stream's vmdesc entry as a `-dump-vmstate` section: what the source
 * actually sent for one device (fields present at its version, element
 * counts, the subsections it sent), in the shape wireDiff compares. vmdesc
 * marks repeated field names with a "[k]" suffix (`config[1]`, the second
 * `config` of PCIDevice) where the dump does not; a name can also end in
 * "[0]" by itself (`port.ifs[0]`), so names are kept and the comparison
 * accepts either spelling.
 */
import type { DumpDescription, DumpField, DumpSection } from "./dump.js";

type J = Record<string, unknown>;
const isObj = (v: unknown): v is J => v !== null && typeof v === "object" && !Array.isArray(v);

function description(b: J, depth: number): DumpDescription {
  const name = typeof b.vmsd_name === "string" ? b.vmsd_name : "";
  const version = typeof b.version === "number" ? b.version : 0;
  const d: DumpDescription = { name, version_id: version, minimum_version_id: 0 };
  if (depth > 64) return d;
  const fields: DumpField[] = [];
  const list = Array.isArray(b.fields) ? b.fields : [];
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (!isObj(e) || typeof e.name !== "string") continue;
    const name = e.name;
    // Uncompressible arrays come as one entry per element: "index" on each but the last.
    let n = typeof e.array_len === "number" ? e.array_len : 1;
    if (typeof e.index === "number") {
      let j = i + 1;
      while (j < list.length && isObj(list[j]) && (list[j] as J).name === e.name && typeof (list[j] as J).index === "number") j++;
      if (j < list.length && isObj(list[j]) && (list[j] as J).name === e.name) j++;
      n = j - i;
      i = j - 1;
    }
    const f: DumpField = { field: e.type === "unused_buffer" ? "unused" : name, version_id: 0, field_exists: false, size: typeof e.size === "number" ? e.size : 0 };
    (f as DumpField & { num: number }).num = n;
    if (isObj(e.struct)) {
      f.Description = description(e.struct, depth + 1);
    } else if ((e.type === "vstruct" || e.type === "tmp") && Array.isArray(e.fields)) {
      f.Description = description(e, depth + 1);
    }
    fields.push(f);
  }
  d.Fields = fields;
  if (Array.isArray(b.subsections) && b.subsections.length) d.Subsections = b.subsections.filter(isObj).map((s) => description(s, depth + 1));
  return d;
}

/** The vmdesc `devices[]` entry as a dump section, at the version the stream names. */
export function dumpFromVmdesc(entry: unknown): DumpSection | null {
  if (!isObj(entry) || typeof entry.vmsd_name !== "string") return null;
  const d = description(entry, 0);
  return { Name: String(entry.name ?? d.name), version_id: d.version_id, minimum_version_id: 0, Description: d };
}
