/**
 * A description rebuilt from one vmdesc `devices[]` entry: what QEMU said it
 * sent for that section, as a `Vmsd` the interpreter can run. Enough to load,
 * edit and re-save a section of a stream that carries its vmdesc, and to
 * check our vmdesc writer against QEMU's on every device of a real stream.
 *
 * The entry is read by the stream codec's own vmdesc reader
 * (stream/vmdesc.ts `readVmdescEntry`: shapes, sizes, counts, index order and
 * depth checked there); this file only turns what it read into a state-valued
 * description: `index` groups folded into one array field, the subsections of
 * struct elements merged, info names mapped to field types.
 *
 * What vmdesc cannot say is refused (RefusedError) rather than guessed:
 * qtailq/qlist/gtree bodies (QEMU writes their elements as duplicate keys),
 * and unknown infos with arrays of differing element sizes.
 */
import { RefusedError } from "@vmstream/framing";
import { readVmdescEntry, type VmdescEntry, type VmdescEntryField } from "../stream/vmdesc.js";
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

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function refuse(where: string, why: string): RefusedError {
  return new RefusedError(`${where}: ${why}`);
}

/** Fields of a vmsd body; `[k]` duplicates stay literal names (they are unique in the body). */
function body(b: VmdescEntry, where: string): Vmsd {
  const list = b.fields;
  const fields: VmsdField[] = [];
  for (let i = 0; i < list.length; ) {
    const e = list[i]!;
    // "index" entries: one per element of an uncompressible array, consecutive.
    const indexed = e.index >= 0;
    let n = e.arrayLen > 0 ? e.arrayLen : 1;
    let j = i + 1;
    const elems: VmdescEntryField[] = [e];
    if (indexed) {
      while (j < list.length && list[j]!.name === e.name && list[j]!.index >= 0) elems.push(list[j++]!);
      n = elems.length;
    }
    const f = field(e, elems, n > 1 || indexed ? n : undefined, `${where}.${e.name}`);
    // "index" entries mean QEMU found the array uncompressible: a field_exists test, or a
    // struct with subsections (sent or not). Keep that, so our vmdesc says the same.
    if (indexed && !(f.type === "struct" && f.vmsd!.subsections.length > 0)) {
      if (f.type === "struct") f.vmsd = { ...f.vmsd!, subsections: [unsent(f.vmsd!.name)] };
      else f.exists = () => true;
    }
    fields.push(f);
    i = j;
  }
  const subsections = b.subsections.map((s, k) => body(s, `${where}.subsections[${k}]`));
  return defineVmsd({ name: b.vmsdName ?? "", version: b.version, minimumVersion: 0, fields, subsections });
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

/** An inline tmp/vstruct description the reader did not find (no `vmsd_name` or `fields`): empty. */
const EMPTY: VmdescEntry = { vmsdName: null, version: 0, fields: [], subsections: [] };

function field(e: VmdescEntryField, elems: VmdescEntryField[], num: number | undefined, where: string): VmsdField {
  const { type, name, size } = e;
  const base: VmsdField = { name, type: "buffer" };
  if (num !== undefined) base.num = num;
  if (type === "struct") {
    const structs = elems.map((x, k) => {
      if (!x.body) throw refuse(where, `struct entry ${k} has no "struct" body`);
      return body(x.body, where);
    });
    return { ...base, type: "struct", vmsd: mergeSubsections(structs) };
  }
  if (type === "vstruct" || type === "tmp") {
    const inline = elems.map((x) => body(x.body ?? EMPTY, where));
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
  // Not from a stream: no offset to name.
  return body(readVmdescEntry(entry, where, 0), where);
}
