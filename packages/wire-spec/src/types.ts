/**
 * The shape of the spec. Everything here is plain data: codecs import it to
 * decode, the testing package derives arbitraries from it, the docs test checks
 * the prose against it, and compat derives its version pairs from it.
 */

/** How a field's bytes are ordered: fixed, or taken from the stream's own header option. */
export type ByteOrder = "le" | "be" | "stream";

export type ScalarType = "u8" | "u16" | "u32" | "u64" | "i8" | "i16" | "i32" | "i64";

export interface FieldSpec {
  name: string;
  /** A scalar, `bytes` (fixed `size`, or to the end when size is omitted) or `cstring`. */
  type: ScalarType | "bytes" | "cstring";
  /** Byte offset from the start of the enclosing layout. */
  offset: number;
  /** Size in bytes (scalars imply it; required for fixed bytes). */
  size?: number;
  order?: ByteOrder;
  /** A value the field must hold (magic, version number). */
  value?: number | bigint | string;
  /** Reserved: written as zero, and non-zero is an error for our readers. */
  reserved?: boolean;
  /** For bit-field fields: bit number → meaning. Unlisted bits are reserved (zero). */
  bits?: Record<number, string>;
  /** Named values, e.g. domain types. */
  values?: Record<number, string>;
  note?: string;
}

export interface LayoutSpec {
  name: string;
  /** Total fixed size, or null when the layout ends in a variable part. */
  size: number | null;
  fields: FieldSpec[];
  note?: string;
}

export interface RecordSpec {
  code: number;
  name: string;
  /** Mandatory: a reader that does not know it must fail. */
  mandatory: boolean;
  /** Fixed/variable body layout, or "opaque" for a blob. */
  body: LayoutSpec | "opaque" | "empty";
  /** Allowed body length: exact, minimum, a multiple, or described in prose. */
  length?: { exact?: number; min?: number; max?: number; multipleOf?: number; rule?: string };
  /** First version of the family that defines the record. */
  since?: string;
  note?: string;
}

export interface VersionSpec {
  version: string;
  /** `current`: written by default; `supported`: read and written; `proposed`: defined here, never shipped upstream. */
  status: "current" | "supported" | "proposed" | "historical";
  /** Header layouts in stream order (e.g. libxc: image header then domain header). */
  headers: LayoutSpec[];
  /** Record (or section) header layout, when the version has type/length records. */
  recordHeader?: LayoutSpec;
  records: RecordSpec[];
  /** Alignment of records (bytes), when records are padded. */
  align?: number;
  /** What changed from the previous version, and why. */
  changes: string;
}

export interface ConversionSpec {
  from: { family: string; version: string };
  to: { family: string; version: string };
  /** Lossless both ways, lossless one way, or lossy (refused unless the loss is absent). */
  kind: "upgrade" | "downgrade" | "cross";
  note: string;
}

export interface FamilySpec {
  name: string;
  title: string;
  /** The prose document, relative to the repository root. */
  doc: string;
  /**
   * `sequential`: versions succeed each other and every adjacent pair must convert;
   * `variants`: versions are parallel variants of one frozen format (legacy widths).
   */
  versioning: "sequential" | "variants";
  /** Versions, oldest first. Adjacent pairs are derived from this order. */
  versions: VersionSpec[];
  /** Conversions beyond adjacent versions of this family (legacy → libxc…). */
  conversions?: ConversionSpec[];
  /** How a reader tells this family from the others. */
  detection: string;
  /** How the format may be extended without a version change, and when the version must change. */
  evolution: string;
}
