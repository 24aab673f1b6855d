import fc from "fast-check";
import { type LayoutSpec, type ScalarType, versionOf } from "@vmstream/wire-spec";

const MAX: Record<ScalarType, number> = {
  u8: 0xff,
  u16: 0xffff,
  u32: 0xffff_ffff,
  u64: Number.MAX_SAFE_INTEGER,
  i8: 0x7f,
  i16: 0x7fff,
  i32: 0x7fff_ffff,
  i64: Number.MAX_SAFE_INTEGER,
};

/** Largest value a descriptor field can hold in a version, read from the spec's layout. */
export function fieldMax(layout: LayoutSpec, name: string): number {
  const f = layout.fields.find((x) => x.name === name);
  if (!f || f.type === "bytes" || f.type === "cstring") throw new Error(`${layout.name} has no scalar field ${name}`);
  return MAX[f.type];
}

export interface ContextRecordValue {
  type: number;
  instance: number;
  body: Uint8Array;
}
export interface ContextStreamValue {
  version: 1 | 2;
  xenMajor: number;
  xenMinor: number;
  bigEndian: boolean;
  records: ContextRecordValue[];
}

export interface ContextArbitraryOptions {
  version: 1 | 2;
  maxRecords?: number;
  maxBody?: number;
  /** Keep types and instances within what every version can hold (for 2 → 1 round trips). */
  portable?: boolean;
}

/**
 * Valid domain-context streams. Field ranges come from the wire-spec descriptor
 * layout of the version (u16 in version 1, u32 in version 2); types 0 (END) and
 * 1 (HEADER / reserved) are implicit and never generated as records.
 */
export function contextStream(opts: ContextArbitraryOptions): fc.Arbitrary<ContextStreamValue> {
  const spec = versionOf("context", String(opts.version));
  const layout = opts.portable ? versionOf("context", "1").recordHeader! : spec.recordHeader!;
  const typeMax = fieldMax(layout, "type");
  const instMax = fieldMax(layout, "instance");
  const record = fc.record({
    type: fc.oneof(fc.integer({ min: 2, max: 64 }), fc.integer({ min: 2, max: typeMax })),
    instance: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: instMax })),
    body: fc.uint8Array({ maxLength: opts.maxBody ?? 64 }),
  });
  return fc.record({
    version: fc.constant(opts.version),
    xenMajor: fc.integer({ min: 0, max: 0xffff }),
    xenMinor: fc.integer({ min: 0, max: 0xffff }),
    bigEndian: opts.version === 2 && !opts.portable ? fc.boolean() : fc.constant(false),
    records: fc.array(record, { maxLength: opts.maxRecords ?? 8 }),
  });
}
