/**
 * A `-dump-vmstate` section as a description the VMState interpreter can run:
 * the wire model the checker reasons about, made executable, so that the
 * compat matrix can save states as one release's dump describes them and load
 * them with another's, and hold wireDiff's prediction to what happens.
 *
 * The dump names sizes, not types, so each leaf is opaque bytes of
 * `size × num` (num as wireDiff resolved it for dumps that do not print it);
 * VMSTATE_UNUSED stays unused; a struct field is a struct (an array of them
 * when num > 1). A leaf the dump cannot size (size 0: written by a VMStateInfo
 * of its own, such as virtio's) is a 4-byte marker both sides must agree on.
 * A field_exists test is a condition looked up in `world`, by the same id the
 * checker uses; the caller sets `world.conds` before each save and load.
 */
import { defineVmsd, type Vmsd, type VmsdField } from "../schema/types.js";
import type { DumpDescription } from "./dump.js";
import { type NumTable, condId, plainBytes } from "./layout.js";

/** The facts a dump leaves to the running device: which field_exists tests pass. */
export interface DumpWorld {
  conds: ReadonlySet<string>;
}

/** What an unsizable leaf carries in the model ("OPAQ"). */
export const OPAQUE_MARK = 0x4f504151;

interface SectionLike {
  version_id?: number;
  minimum_version_id?: number;
  Description?: DumpDescription;
}

function fieldsOf(d: DumpDescription, nums: NumTable, world: DumpWorld, depth: number): VmsdField[] {
  if (depth > 64) throw new RangeError(`${d.name}: descriptions nested deeper than 64`);
  const occ = new Map<string, number>();
  return (d.Fields ?? []).map((f) => {
    const k = occ.get(f.field) ?? 0;
    occ.set(f.field, k + 1);
    const n = nums.count(f, d.name, k);
    const out: VmsdField = { name: f.field, key: k > 0 ? `${f.field}#${k}` : f.field, type: "buffer" };
    if (f.field_exists) {
      const id = condId(d.name, f.field, k);
      out.exists = () => world.conds.has(id);
    } else if (f.version_id > 0) out.version = f.version_id;
    const flat = f.Description && n > 8 ? plainBytes(f.Description, nums, depth + 1) : undefined;
    if (flat !== undefined) {
      // A long array of plain structs is the same bytes as one buffer; the interpreter runs it far faster.
      out.size = flat * n;
    } else if (f.Description) {
      out.type = "struct";
      out.vmsd = descriptionVmsd(f.Description, nums, world, depth + 1);
      if (n !== 1) out.num = n;
    } else if (f.size === 0) {
      out.type = "uint32_equal";
      out.expect = OPAQUE_MARK;
    } else {
      out.type = f.field === "unused" ? "unused_buffer" : "buffer";
      out.size = f.size * n;
    }
    return out;
  });
}

function descriptionVmsd(d: DumpDescription, nums: NumTable, world: DumpWorld, depth: number, version = d.version_id, minimumVersion = d.minimum_version_id): Vmsd {
  return defineVmsd({
    name: d.name,
    version,
    minimumVersion,
    fields: fieldsOf(d, nums, world, depth),
    subsections: (d.Subsections ?? []).map((s) => descriptionVmsd(s, nums, world, depth + 1)),
  });
}

/** The executable model of one `-dump-vmstate` section (its numbers are the section's). */
export function vmsdFromDump(section: SectionLike, nums: NumTable, world: DumpWorld): Vmsd {
  const d = section.Description;
  if (!d) throw new RangeError("a section without a VMState description has no model");
  return descriptionVmsd(d, nums, world, 0, section.version_id ?? d.version_id, section.minimum_version_id ?? d.minimum_version_id);
}

/** Every field_exists condition id in a section, as the model and the checker name them. */
export function dumpConditions(section: SectionLike): string[] {
  const out = new Set<string>();
  const walk = (d: DumpDescription, depth: number): void => {
    if (depth > 64) return;
    const occ = new Map<string, number>();
    for (const f of d.Fields ?? []) {
      const k = occ.get(f.field) ?? 0;
      occ.set(f.field, k + 1);
      if (f.field_exists) out.add(condId(d.name, f.field, k));
      if (f.Description) walk(f.Description, depth + 1);
    }
    for (const s of d.Subsections ?? []) walk(s, depth + 1);
  };
  if (section.Description) walk(section.Description, 0);
  return [...out];
}
