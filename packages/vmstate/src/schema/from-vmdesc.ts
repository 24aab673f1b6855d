/**
 * A description rebuilt from one vmdesc `devices[]` entry: what QEMU said it
 * sent for that section, as a `Vmsd` the interpreter can run. Enough to load,
 * edit and re-save a section of a stream that carries its vmdesc, and to
 * check our vmdesc writer against QEMU's on every device of a real stream.
 *
 * What vmdesc cannot say is refused (RefusedError) rather than guessed:
 * qtailq/qlist/gtree bodies (QEMU writes their elements as duplicate keys),
 * and unknown infos with arrays of differing element sizes.
 */
import { RefusedError } from "@vmstream/framing";
import { VMDESC_TYPES } from "./type-names.js";
import { defineVmsd, type FieldType, type Vmsd, type VmsdField } from "./types.js";

/**
 * vmdesc `type` → field type: the inverse of the names the saver writes, for the
 * leaf types (structs, lists and trees are described by their own entries).
 */
const NOT_LEAF: ReadonlySet<FieldType> = new Set(["bitmap", "struct", "vstruct", "tmp", "qtailq", "qlist", "gtree", "validate"] as FieldType[]);
const BY_INFO: Record<string, FieldType> = Object.fromEntries(
  (Object.entries(VMDESC_TYPES) as [FieldType, { name: string }][]).filter(([t]) => !NOT_LEAF.has(t)).map(([t, e]) => [e.name, t]),
);

type J = Record<string, unknown>;

function isObj(v: unknown): v is J {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function refuse(where: string, why: string): RefusedError {
  return new RefusedError(`${where}: ${why}`);
}

/** Fields of a vmsd body; `[k]` duplicates stay literal names (they are unique in the body). */
function body(b: J, where: string, depth: number): Vmsd {
  if (depth > 32) throw refuse(where, "nested too deep");
  const name = typeof b.vmsd_name === "string" ? b.vmsd_name : "";
  const version = typeof b.version === "number" ? b.version : 0;
  const list = Array.isArray(b.fields) ? b.fields : [];
  const fields: VmsdField[] = [];
  for (let i = 0; i < list.length; ) {
    const e = list[i];
    if (!isObj(e) || typeof e.name !== "string" || typeof e.type !== "string") throw refuse(`${where}.fields[${i}]`, "not a field entry");
    // "index" entries: one per element of an uncompressible array, consecutive.
    let n = typeof e.array_len === "number" ? e.array_len : 1;
    let j = i + 1;
    const elems: J[] = [e];
    if (typeof e.index === "number") {
      while (j < list.length && isObj(list[j]) && (list[j] as J).name === e.name && typeof (list[j] as J).index === "number") elems.push(list[j++] as J);
      n = elems.length;
    }
    const indexed = typeof e.index === "number";
    const f = field(e, elems, n > 1 || indexed ? n : undefined, `${where}.${e.name}`, depth);
    // "index" entries mean QEMU found the array uncompressible: a field_exists test, or a
    // struct with subsections (sent or not). Keep that, so our vmdesc says the same.
    if (indexed && !(f.type === "struct" && f.vmsd!.subsections.length > 0)) {
      if (f.type === "struct") f.vmsd = { ...f.vmsd!, subsections: [unsent(f.vmsd!.name)] };
      else f.exists = () => true;
    }
    fields.push(f);
    i = j;
  }
  const subsections = Array.isArray(b.subsections)
    ? b.subsections.map((s, k) => {
        if (!isObj(s)) throw refuse(`${where}.subsections[${k}]`, "not an object");
        return body(s, `${where}.subsections[${k}]`, depth + 1);
      })
    : [];
  return defineVmsd({ name, version, minimumVersion: 0, fields, subsections });
}

/** A subsection vmdesc did not show (it was not needed); never sent, never matched. */
function unsent(parent: string): Vmsd {
  return defineVmsd({ name: `${parent}/(not sent)`, needed: () => false });
}

function mergeSubsections(vmsds: Vmsd[]): Vmsd {
  // Elements of one array may have sent different subsections; the union describes them all.
  const first = vmsds[0]!;
  const subs = new Map<string, Vmsd>();
  for (const v of vmsds) for (const s of v.subsections) if (!subs.has(s.name)) subs.set(s.name, s);
  return { ...first, subsections: [...subs.values()] };
}

function field(e: J, elems: J[], num: number | undefined, where: string, depth: number): VmsdField {
  const type = e.type as string;
  const name = e.name as string;
  const size = typeof e.size === "number" ? e.size : 0;
  const base: VmsdField = { name, type: "buffer" };
  if (num !== undefined) base.num = num;
  if (type === "struct") {
    const structs = elems.map((x, k) => {
      if (!isObj(x.struct)) throw refuse(where, `struct entry ${k} has no "struct" body`);
      return body(x.struct, where, depth + 1);
    });
    return { ...base, type: "struct", vmsd: mergeSubsections(structs) };
  }
  if (type === "vstruct" || type === "tmp") {
    const inline = elems.map((x) => body(x, where, depth + 1));
    const vmsd = mergeSubsections(inline);
    // A nested description runs at the version vmdesc names: struct_version_id for
    // vstruct, and for tmp the load version is the field's own (QEMU's asymmetry).
    return type === "vstruct" ? { ...base, type: "vstruct", vmsd, structVersion: vmsd.version } : { ...base, type: "tmp", vmsd, version: vmsd.version };
  }
  if (type === "qtailq" || type === "qlist" || type === "gtree") throw refuse(where, `${type} elements are not recoverable from vmdesc`);
  const mapped = BY_INFO[type];
  if (mapped && mapped !== "buffer" && mapped !== "unused_buffer") return { ...base, type: mapped };
  // Buffers and every device-specific info ("pci config", "virtio", …): opaque bytes of the described size.
  if (elems.some((x) => x.size !== size)) throw refuse(where, "elements of different sizes");
  const out: VmsdField = { ...base, type: mapped ?? "buffer", size };
  if (!mapped) out.info = type;
  return out;
}

/** A description from a vmdesc `devices[]` entry (parsed JSON). */
export function vmsdFromVmdesc(entry: unknown): Vmsd {
  if (!isObj(entry)) throw refuse("vmdesc entry", "not an object");
  const where = typeof entry.name === "string" ? entry.name : "vmdesc entry";
  if (typeof entry.vmsd_name !== "string") {
    // An old-style save_state section: one opaque buffer.
    const size = typeof entry.size === "number" ? entry.size : 0;
    return defineVmsd({ name: where, fields: [{ name: "data", type: "buffer", size }] });
  }
  return body(entry, where, 0);
}
