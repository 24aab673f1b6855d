/**
 * What a `-dump-vmstate` description puts on the wire, as a flat list of
 * tokens: the leaves in the order QEMU's vmstate_save_state writes them (a
 * VMS_STRUCT field inlines its description, at that description's own
 * version_id, since the nested version is never sent), and, after each
 * description's fields, the place where its subsections go.
 *
 * A dump does not name types; it names sizes. A leaf's bytes on the wire are
 * `size × num`. QEMU prints "num" only since 8.x (7.2's and 5.2's dumps leave
 * it out), so for such dumps an array length is taken from the other side's
 * dump where the same field exists there, and otherwise solved from the bytes
 * around it (see wire-diff.ts); `resolvedNum` remembers the answer, so the
 * interpreter model of the same dump (model.ts) writes the same bytes.
 */
import type { DumpDescription, DumpField } from "./dump.js";

export interface Leaf {
  t: "leaf";
  name: string;
  /** Path from the section's description, " > " between nested fields. */
  path: string;
  /** field->size: element size in bytes (0: written by a VMStateInfo the dump cannot size). */
  elem: number;
  field: DumpField;
  /** The description that declares it, and which of its same-named fields it is. */
  owner: string;
  k: number;
  /** VMSTATE_UNUSED padding (the field name QEMU prints for it). */
  unused: boolean;
  /** A field_exists test guards this leaf (or a struct around it): the condition's id. */
  cond: string | null;
  /** Inside a struct array whose element count neither dump gives (its path): a VARRAY, perhaps empty. */
  guess?: string;
}

export interface Subs {
  t: "subs";
  path: string;
  desc: DumpDescription;
}

export type Token = Leaf | Subs;

/** How many elements a field holds, per dump. */
export class NumTable {
  private readonly resolved = new Map<DumpField, number>();
  /** `hasNum`: the dump prints "num" (QEMU ≥ 8); otherwise a missing "num" means "unknown". */
  constructor(
    readonly hasNum: boolean,
    private readonly other: Map<string, number> | null,
    /** The count of a field neither dump gives one for (default 1). */
    private readonly fallback: (f: DumpField) => number = () => 1,
  ) {}

  /** Known element count, or undefined when the dump does not say and nothing resolved it yet. */
  known(f: DumpField): number | undefined {
    const r = this.resolved.get(f);
    if (r !== undefined) return r;
    const n = numOf(f);
    if (n !== undefined) return n;
    if (this.hasNum) return 1;
    return undefined;
  }

  /** Count for the field, falling back to the other dump's same field, then 1. */
  count(f: DumpField, owner: string, k: number): number {
    const n = this.known(f);
    if (n !== undefined) return n;
    const o = this.other?.get(fieldKey(owner, f.field, k));
    if (o !== undefined) {
      this.resolved.set(f, o);
      return o;
    }
    return this.fallback(f);
  }

  /** Whether a count came from nowhere (unknown, no counterpart): the gap solver may set it. */
  open(f: DumpField, owner: string, k: number): boolean {
    return this.known(f) === undefined && this.other?.get(fieldKey(owner, f.field, k)) === undefined;
  }

  set(f: DumpField, n: number): void {
    this.resolved.set(f, n);
  }
}

export function numOf(f: DumpField): number | undefined {
  const n = (f as { num?: unknown }).num;
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export const fieldKey = (owner: string, field: string, k: number): string => `${owner}\u0000${field}\u0000${k}`;

/** Whether a dump prints "num" anywhere (QEMU 8.0 and later do, for every array). */
export function dumpHasNum(dump: Record<string, unknown>): boolean {
  const seen = (d: DumpDescription | undefined, depth: number): boolean => {
    if (!d || depth > 64) return false;
    for (const f of d.Fields ?? []) {
      if (numOf(f) !== undefined) return true;
      if (seen(f.Description, depth + 1)) return true;
    }
    return (d.Subsections ?? []).some((s) => seen(s, depth + 1));
  };
  for (const [k, v] of Object.entries(dump)) {
    if (k === "vmschkmachine") continue;
    if (seen((v as { Description?: DumpDescription }).Description, 0)) return true;
  }
  return false;
}

/** Every field's "num" in a dump, by description name, field name and occurrence. */
export function numIndex(dump: Record<string, unknown>): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (d: DumpDescription | undefined, depth: number): void => {
    if (!d || depth > 64) return;
    const occ = new Map<string, number>();
    for (const f of d.Fields ?? []) {
      const k = occ.get(f.field) ?? 0;
      occ.set(f.field, k + 1);
      const n = numOf(f);
      if (n !== undefined) {
        out.set(fieldKey(d.name, f.field, k), n);
        // vmdesc's "name[k]" for the k-th same-named field.
        const m = /^(.*)\[(\d+)\]$/.exec(f.field);
        if (m && !out.has(fieldKey(d.name, m[1]!, Number(m[2])))) out.set(fieldKey(d.name, m[1]!, Number(m[2])), n);
      }
      walk(f.Description, depth + 1);
    }
    for (const s of d.Subsections ?? []) walk(s, depth + 1);
  };
  for (const [k, v] of Object.entries(dump)) if (k !== "vmschkmachine") walk((v as { Description?: DumpDescription }).Description, 0);
  return out;
}

/** Struct arrays are inlined element by element up to this many leaves; more is refused as too large. */
export const MAX_TOKENS = 200_000;

export class TooLarge extends Error {}

/**
 * The tokens of `desc` at `version`: fields gated above it are left out
 * (field_exists fields stay, guarded by their condition).
 */
export function flatten(desc: DumpDescription, version: number, nums: NumTable, path = "", cond: string | null = null, out: Token[] = [], depth = 0, guess?: string): Token[] {
  if (depth > 64) throw new TooLarge(`${desc.name}: descriptions nested deeper than 64`);
  const occ = new Map<string, number>();
  for (const f of desc.Fields ?? []) {
    const k = occ.get(f.field) ?? 0;
    occ.set(f.field, k + 1);
    if (!f.field_exists && f.version_id > version) continue;
    const c = f.field_exists ? condId(desc.name, f.field, k) : cond;
    const p = path ? `${path} > ${f.field}` : f.field;
    if (f.Description) {
      const g = nums.open(f, desc.name, k) ? p : guess;
      const n = nums.count(f, desc.name, k);
      const plain = n > 8 ? plainBytes(f.Description, nums, depth + 1) : undefined;
      if (plain !== undefined) {
        // A long array of plain structs: compared as its bytes (n × the struct's), one leaf.
        out.push({ t: "leaf", name: `${f.field}[]`, path: p, elem: plain, field: f, owner: desc.name, k, unused: false, cond: c, ...(g ? { guess: g } : {}) });
        continue;
      }
      for (let i = 0; i < n; i++) {
        if (out.length > MAX_TOKENS) throw new TooLarge(`${p}: more than ${MAX_TOKENS} leaves`);
        flatten(f.Description, f.Description.version_id, nums, n > 1 ? `${p}[${i}]` : p, c, out, depth + 1, g);
      }
      continue;
    }
    nums.count(f, desc.name, k); // resolve from the other side once, by name
    out.push({ t: "leaf", name: f.field, path: p, elem: f.size, field: f, owner: desc.name, k, unused: f.field === "unused", cond: c, ...(guess ? { guess } : {}) });
  }
  if (desc.Subsections && desc.Subsections.length > 0) out.push({ t: "subs", path, desc });
  return out;
}

/** The id of a field_exists condition: description, field, and which same-named field. */
export const condId = (desc: string, field: string, k: number): string => `${desc}.${field}${k > 0 ? `#${k}` : ""}`;

/** A leaf that cannot be compared by bytes: conditional, or sized by code the dump does not show. */
export const isHard = (t: Token): boolean => t.t === "subs" || t.cond !== null || t.elem === 0;

/** Bytes of a description made of plain leaves only (no conditions, opaque or unused leaves, subsections); else undefined. */
export function plainBytes(d: DumpDescription, nums: NumTable, depth: number): number | undefined {
  if (depth > 64 || (d.Subsections && d.Subsections.length > 0)) return undefined;
  const occ = new Map<string, number>();
  let total = 0;
  for (const f of d.Fields ?? []) {
    const k = occ.get(f.field) ?? 0;
    occ.set(f.field, k + 1);
    if (f.field_exists || f.field === "unused") return undefined;
    if (f.version_id > d.version_id) continue; // never sent: a nested description runs at its own version
    const n = nums.count(f, d.name, k);
    if (f.Description) {
      const inner = plainBytes(f.Description, nums, depth + 1);
      if (inner === undefined) return undefined;
      total += inner * n;
    } else if (f.size === 0) return undefined;
    else total += f.size * n;
  }
  return total;
}

