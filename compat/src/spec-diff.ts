/**
 * The static checker for stream families: what the wire-spec data alone says
 * about a version pair, before any byte is encoded. Field widths, fields that
 * exist on one side only, records one version lacks, and whether the header
 * carries the version. The `static-dynamic` cell then holds the codecs to this
 * verdict value by value, so the spec and the code cannot drift apart.
 */
import { type FieldSpec, type LayoutSpec, type RecordSpec, type ScalarType, type VersionSpec, versionOf } from "@vmstream/wire-spec";

/** Where a field lives: stream-level (headers, header-like record bodies) or in every record descriptor. */
export type FieldRole = "stream" | "descriptor";

/** One way a conversion direction can lose information. */
export type LossRule =
  | { kind: "narrower"; role: FieldRole; field: string; max: bigint }
  | { kind: "absent"; role: FieldRole; field: string; meaning: string }
  | { kind: "record"; code: number; name: string };

export interface SpecVerdict {
  family: string;
  from: string;
  to: string;
  /** Rules under which from → to cannot be represented (then it must be refused). */
  upgradeLoss: LossRule[];
  /** Rules under which to → from cannot be represented (then it must be refused). */
  downgradeLoss: LossRule[];
  /** How a `from` reader must treat `to` data. */
  forward: "reject" | "skip";
  /** Bytes of header (layouts, or a leading header record) in either version: a clean rejection points inside them. */
  headerBytes: number;
  /** Why, in words, for reasons and the docs. */
  notes: string[];
}

const WIDTH: Record<ScalarType, number> = { u8: 8, u16: 16, u32: 32, u64: 64, i8: 7, i16: 15, i32: 31, i64: 63 };
const maxOf = (t: ScalarType): bigint => (1n << BigInt(WIDTH[t])) - 1n;

interface DataField {
  role: FieldRole;
  field: FieldSpec & { type: ScalarType };
}

const isScalar = (f: FieldSpec): f is FieldSpec & { type: ScalarType } => f.type !== "bytes" && f.type !== "cstring";

/** Fields that carry data: scalars that are neither constants (magic, version) nor reserved. */
function dataFields(v: VersionSpec): DataField[] {
  const out: DataField[] = [];
  const stream: LayoutSpec[] = [...v.headers];
  // A version-1 style stream keeps its header in a record body; it is still stream-level data.
  for (const r of v.records) if (isHeaderRecord(r) && typeof r.body === "object") stream.push(r.body);
  for (const l of stream) for (const f of l.fields) if (isScalar(f) && f.value === undefined && !f.reserved) out.push({ role: "stream", field: f });
  for (const f of v.recordHeader?.fields ?? []) if (isScalar(f) && f.value === undefined && !f.reserved) out.push({ role: "descriptor", field: f });
  return out;
}

/** A record that holds the stream header (version 1 of the context family). */
const isHeaderRecord = (r: RecordSpec): boolean => typeof r.body === "object" && /HEADER/.test(r.name);

const carriesVersion = (v: VersionSpec): boolean =>
  v.headers.some((l) => l.fields.some((f) => f.name === "version")) ||
  v.records.some((r) => typeof r.body === "object" && /HEADER/.test(r.name) && r.body.fields.some((f) => f.name === "version"));

function headerExtent(v: VersionSpec): number {
  let n = v.headers.reduce((k, l) => k + (l.size ?? 0), 0);
  for (const r of v.records) if (isHeaderRecord(r) && typeof r.body === "object") n += (v.recordHeader?.size ?? 0) + (r.body.size ?? 0);
  return n;
}

/** Losses going from `a` to `b`: what `a` can say that `b` cannot hold. */
function losses(a: VersionSpec, b: VersionSpec): LossRule[] {
  const out: LossRule[] = [];
  const bf = dataFields(b);
  for (const { role, field } of dataFields(a)) {
    const peer = bf.find((x) => x.role === role && x.field.name === field.name);
    if (!peer) {
      const meaning = field.bits ? Object.values(field.bits).join(", ") : field.name;
      out.push({ kind: "absent", role, field: field.name, meaning });
    } else if (WIDTH[peer.field.type] < WIDTH[field.type]) {
      out.push({ kind: "narrower", role, field: field.name, max: maxOf(peer.field.type) });
    }
  }
  // Records that carry data and that `b` does not define. Empty-bodied records
  // are framing (a sentinel, an end marker): dropping or inferring them loses nothing.
  for (const r of a.records) {
    if (r.body === "empty" || isHeaderRecord(r)) continue;
    if (!b.records.some((x) => x.code === r.code)) out.push({ kind: "record", code: r.code, name: r.name });
  }
  return out;
}

export function specDiff(familyName: string, from: string, to: string): SpecVerdict {
  const a = versionOf(familyName, from);
  const b = versionOf(familyName, to);
  const notes: string[] = [];
  const upgradeLoss = losses(a, b);
  const downgradeLoss = losses(b, a);
  const forward = carriesVersion(a) && carriesVersion(b) ? "reject" : b.records.some((r) => r.mandatory && !a.records.some((x) => x.code === r.code)) ? "reject" : "skip";
  if (forward === "reject") notes.push(`a ${familyName}@${from} reader must refuse ${familyName}@${to} data (the header names the version)`);
  for (const l of downgradeLoss) notes.push(`${to} → ${from}: ${describeLoss(l)}`);
  for (const l of upgradeLoss) notes.push(`${from} → ${to}: ${describeLoss(l)}`);
  return { family: familyName, from, to, upgradeLoss, downgradeLoss, forward, headerBytes: Math.max(headerExtent(a), headerExtent(b)), notes };
}

export function describeLoss(l: LossRule): string {
  switch (l.kind) {
    case "narrower":
      return `${l.role} field ${l.field} above ${l.max} does not fit`;
    case "absent":
      return `${l.role} field ${l.field} (${l.meaning}) has no place when non-zero`;
    case "record":
      return `record ${l.name} (${l.code}) has no place`;
  }
}

/** Words a refusal must contain to count as naming this loss. */
export function lossWords(l: LossRule): string[] {
  switch (l.kind) {
    case "narrower":
      return [l.field];
    case "absent":
      return [l.field, ...l.meaning.split(/,\s*/).flatMap((m) => m.split(/\s+/).filter((w) => w.length > 4))];
    case "record":
      return [l.name, String(l.code)];
  }
}

/**
 * The data a value carries, as the spec names it: stream-level field values
 * and one map per record descriptor, plus the record codes present. Drivers
 * produce this from a generated value; `predictLoss` evaluates the rules on it.
 */
export interface FieldValues {
  stream: Record<string, number | bigint>;
  descriptors: Array<Record<string, number | bigint>>;
  recordCodes: number[];
}

/** The rules that fire for this value (empty: the conversion must succeed losslessly). */
export function predictLoss(rules: readonly LossRule[], v: FieldValues): LossRule[] {
  return rules.filter((l) => {
    switch (l.kind) {
      case "narrower": {
        const vals = l.role === "stream" ? [v.stream[l.field]] : v.descriptors.map((d) => d[l.field]);
        return vals.some((x) => x !== undefined && BigInt(x) > l.max);
      }
      case "absent": {
        const vals = l.role === "stream" ? [v.stream[l.field]] : v.descriptors.map((d) => d[l.field]);
        return vals.some((x) => x !== undefined && BigInt(x) !== 0n);
      }
      case "record":
        return v.recordCodes.includes(l.code);
    }
  });
}
