/**
 * VMState descriptions as plain values. A `Vmsd` mirrors QEMU's
 * `VMStateDescription`, a `VmsdField` mirrors one `VMSTATE_*` macro. Nothing
 * here runs code except the optional `exists`/`needed` predicates, which stand
 * for QEMU's `field_exists`/`needed` callbacks and look at the state value.
 */

/** The VMStateInfo types of QEMU 7.2's vmstate-types.c (plus savevm.c's timer). */
export type ScalarType =
  | "bool"
  | "int8"
  | "int16"
  | "int32"
  | "int64"
  | "uint8"
  | "uint16"
  | "uint32"
  | "uint64"
  | "int32_equal"
  | "uint8_equal"
  | "uint16_equal"
  | "uint32_equal"
  | "uint64_equal"
  | "int32_le"
  | "timer"
  | "cpu_double"
  | "float64";

export type FieldType =
  | ScalarType
  | "buffer"
  | "unused_buffer"
  | "bitmap"
  | "struct"
  | "vstruct"
  | "tmp"
  | "qtailq"
  | "qlist"
  | "gtree"
  | "validate";

/** A state value: one key per present field, one key per sent subsection (its name). */
export type State = { [key: string]: unknown };

/** Counter width of a VARRAY (`VMSTATE_VARRAY_INT32`, `_UINT32`, `_UINT16`, `_UINT8`). */
export type CountWidth = "int32" | "uint32" | "uint16" | "uint8";

export interface VmsdField {
  /** The C field name as QEMU prints it (`stringify(field)`), e.g. `env.cr[0]`. */
  name: string;
  /** Key in the state value; defaults to `name`, or `name[k]` when the name is declared more than once. */
  key?: string;
  type: FieldType;
  /** QEMU's `info->name` override for device-specific infos (`"pci config"`); wire as `type`. */
  info?: string;
  /** `field->version_id` (the `_V` macros): present when the running version is at least this. */
  version?: number;
  /** `field_exists(opaque, version_id)`: when given it alone decides presence. */
  exists?: (state: State, version: number) => boolean;
  /** `VMS_MUST_EXIST`: absence fails the load (`VMSTATE_VALIDATE` is `type: "validate"` with this). */
  mustExist?: boolean;

  /** `VMS_ARRAY`: fixed element count. With `count`, `VMS_MULTIPLY_ELEMENTS` (n *= num). */
  num?: number;
  /** VARRAY: element count read from an earlier field of the same description. */
  count?: { field: string; width: CountWidth };
  /** `VMS_ARRAY_OF_POINTER`: an element may be null and is then sent as the byte 0x30. */
  pointers?: boolean;

  /** buffer / unused_buffer: byte size. With `sizeField`, the `VMS_MULTIPLY` factor. */
  size?: number;
  /** `VMS_VBUFFER`: byte size (bitmap: bit count) read from an earlier int32/uint32 field. */
  sizeField?: string;
  /** bitmap with a fixed bit count. */
  bits?: number;

  /** struct, vstruct, tmp, qtailq, qlist, gtree (value side): the nested description. */
  vmsd?: Vmsd;
  /** vstruct: `struct_version_id`, the version the nested description runs at. */
  structVersion?: number;
  /** gtree: the key description; absent means a "direct" be64 key. */
  keyVmsd?: Vmsd;

  /** *_equal: the value the destination holds; the load fails on any other. */
  expect?: number | bigint;
  /** int32_le: the destination's current value, the upper bound of what loads. */
  max?: number;
  /** `-dump-vmstate` "size" (C sizeof) when it differs from the wire size (structs). */
  cSize?: number;
  /** Set only by the stream's vmdesc parser: the field as that vmdesc describes it (see `VmdescSlot`). */
  vmdesc?: VmdescSlot;
}

/**
 * One vmdesc `fields[]` entry as the stream codec runs it: the decode document
 * keeps its values as that entry's type and size say (ints up to 32 bits as
 * numbers, 64-bit ones as decimal strings, everything else as bytes), and the
 * analyze view prints them as QEMU's script does.
 */
export interface VmdescSlot {
  /** The vmdesc name (analyze-migration's key); the document key is the field's `key`. */
  name: string;
  /** The vmdesc type name. */
  type: string;
  /** How analyze-migration prints it (type-names.ts `Az`). */
  az: number;
  /** Bytes per element, as vmdesc says. */
  size: number;
  /** Elements the entry covers (`array_len`, else 1). */
  count: number;
  /** -1, or the element index of an `index` entry. */
  index: number;
  /** Length of the decoded array (`array_len`, or the entries of an index group); 0 when the value is not an array. */
  total: number;
}

/** Set only by the stream's vmdesc parser on the descriptions it builds. */
export interface VmdescListing {
  /** The vmdesc `version` (a listed subsection must carry exactly this one). */
  version: number;
  /** The document key of each subsection, parallel to `subsections`. */
  keys: readonly string[];
  /** Written by VMState (gets format 4's SUBSECTIONS_END); false for old-style save_state bodies. */
  vmstate: boolean;
}

export interface Vmsd {
  readonly kind: "vmsd";
  name: string;
  /** `version_id` */
  version: number;
  /** `minimum_version_id` */
  minimumVersion: number;
  fields: readonly VmsdField[];
  /** Sent after the fields, in this order, each when needed. */
  subsections: readonly Vmsd[];
  /**
   * Subsections only: `needed(opaque)`. Given the parent state (and this
   * subsection's own value when present). Without it, a subsection is sent
   * when the parent state holds a value under the subsection's name.
   */
  needed?: (state: State, own: State | undefined) => boolean;
  /**
   * Built from a stream's vmdesc: the subsections are exactly those that were
   * sent, in order (no peeking, no lookup by name), and the fields carry `vmdesc`.
   */
  vmdesc?: VmdescListing;
}

export interface VmsdInit {
  name: string;
  version?: number;
  minimumVersion?: number;
  fields?: readonly VmsdField[];
  subsections?: readonly Vmsd[];
  needed?: (state: State, own: State | undefined) => boolean;
}

/** Build a description value. Checks the declaration once, so codecs can trust it. */
export function defineVmsd(init: VmsdInit): Vmsd {
  const v: Vmsd = {
    kind: "vmsd",
    name: init.name,
    version: init.version ?? 0,
    minimumVersion: init.minimumVersion ?? 0,
    fields: init.fields ?? [],
    subsections: init.subsections ?? [],
  };
  if (init.needed) v.needed = init.needed;
  return v;
}

export type SaveFormat = 3 | 4;
