/**
 * Device state of two QEMU streams, field by field: sections matched by idstr
 * and instance (section ids are per stream and differ between releases),
 * values compared as `--view analyze` prints them, so what the user sees in
 * either view is what the diff names.
 */
import type { QemuSummary } from "../stream/inspect.js";

/** Why one field differs. */
export type FieldReason =
  | "value differs"
  | "only in A"
  | "only in B"
  | "renamed"
  | "array length differs"
  | "described differently";

export interface FieldDiff {
  /** `idstr` and instance of the section. */
  section: string;
  instance: number;
  /** Path inside the section, as analyze prints it: `regs[0].mode`, `tx.props`. */
  path: string;
  reason: FieldReason;
  /** The value in A and in B (absent where the field is only on one side). */
  a?: unknown;
  b?: unknown;
  /** For a rename: the field's name in B. */
  renamedTo?: string;
}

export interface SectionRef {
  section: string;
  instance: number;
  version: number;
}

export interface DeviceDiff {
  onlyA: SectionRef[];
  onlyB: SectionRef[];
  /** Sections in both with another version_id. */
  versions: { section: string; instance: number; a: number; b: number }[];
  fields: FieldDiff[];
  /** Sections compared field by field. */
  compared: number;
}

/** One side: the stream's summary and its analyze view (`inspect --view analyze`). */
export interface DeviceSide {
  summary: { sections: readonly Pick<QemuSummary["sections"][number], "kind" | "id" | "instance" | "version">[] };
  analyze: Record<string, unknown>;
}

interface Keyed {
  section: string;
  instance: number;
  version: number;
  value: unknown;
}

/** analyze keys are `idstr (section id)`; the summary gives each id its instance and version. */
function keyed(side: DeviceSide): Map<string, Keyed> {
  const byId = new Map<number, { instance: number; version: number }>();
  for (const s of side.summary.sections) if (s.kind === "full" || s.kind === "start") byId.set(s.id, { instance: s.instance, version: s.version });
  const out = new Map<string, Keyed>();
  for (const [k, value] of Object.entries(side.analyze)) {
    const m = /^(.*) \((\d+)\)$/.exec(k);
    if (!m) continue;
    const sec = byId.get(Number(m[2]));
    const instance = sec?.instance ?? 0;
    out.set(`${m[1]}\u0000${instance}`, { section: m[1]!, instance, version: sec?.version ?? 0, value });
  }
  return out;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);

/** Compare one value tree; pushes a finding per differing leaf, field only on one side or array length. */
function walk(a: unknown, b: unknown, path: string, at: { section: string; instance: number }, out: FieldDiff[]): void {
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    const onlyA = ka.filter((k) => !Object.hasOwn(b, k));
    const onlyB = kb.filter((k) => !Object.hasOwn(a, k));
    // One field missing on each side, at the same position, with values of the same shape: a rename
    // (the description changed a name; the bytes on the wire are the same).
    const renamed = new Map<string, string>();
    for (const x of onlyA) {
      const y = onlyB.find((k) => !renamed.has(k) && kb.indexOf(k) === ka.indexOf(x) && shape(a[x]) === shape(b[k]));
      if (y !== undefined) renamed.set(y, x);
    }
    const join = (k: string): string => (path ? `${path}.${k}` : k);
    for (const k of ka) {
      if (Object.hasOwn(b, k)) walk(a[k], b[k], join(k), at, out);
      else {
        const to = [...renamed.entries()].find(([, from]) => from === k)?.[0];
        if (to !== undefined) {
          out.push({ ...at, path: join(k), reason: "renamed", renamedTo: to, a: a[k], b: b[to] });
          if (!same(a[k], b[to])) out.push({ ...at, path: join(to), reason: "value differs", a: a[k], b: b[to] });
        } else out.push({ ...at, path: join(k), reason: "only in A", a: a[k] });
      }
    }
    for (const k of onlyB) if (!renamed.has(k)) out.push({ ...at, path: join(k), reason: "only in B", b: b[k] });
    return;
  }
  // One vmdesc lists an array of structs element by element, the other one element (QEMU before 10.0):
  // say so once, then compare the element both describe.
  if (Array.isArray(a) !== Array.isArray(b) && (isObject(a) || isObject(b))) {
    const [x, y] = [Array.isArray(a) ? a : [a], Array.isArray(b) ? b : [b]];
    out.push({ ...at, path, reason: "described differently", a: shape(a), b: shape(b) });
    walk(x[0], y[0], `${path}[0]`, at, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push({ ...at, path, reason: "array length differs", a: a.length, b: b.length });
    for (let i = 0; i < Math.min(a.length, b.length); i++) walk(a[i], b[i], `${path}[${i}]`, at, out);
    return;
  }
  if (!same(a, b)) out.push({ ...at, path, reason: "value differs", a, b });
}

/** The shape of a value, to tell a rename from two unrelated fields. */
function shape(x: unknown): string {
  if (Array.isArray(x)) return `[${x.length}]`;
  if (isObject(x)) return `{${Object.keys(x).length}}`;
  return typeof x === "string" && /^0x[0-9a-f]*$/.test(x) ? `hex${x.length}` : typeof x;
}

export function diffDevices(a: DeviceSide, b: DeviceSide): DeviceDiff {
  const ka = keyed(a);
  const kb = keyed(b);
  const res: DeviceDiff = { onlyA: [], onlyB: [], versions: [], fields: [], compared: 0 };
  for (const [k, x] of ka) {
    const y = kb.get(k);
    if (!y) {
      res.onlyA.push({ section: x.section, instance: x.instance, version: x.version });
      continue;
    }
    res.compared++;
    if (x.version !== y.version) res.versions.push({ section: x.section, instance: x.instance, a: x.version, b: y.version });
    walk(x.value, y.value, "", { section: x.section, instance: x.instance }, res.fields);
  }
  for (const [k, y] of kb) if (!ka.has(k)) res.onlyB.push({ section: y.section, instance: y.instance, version: y.version });
  return res;
}
