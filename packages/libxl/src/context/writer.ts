import { ByteWriter, RefusedError, type Sink, padding8, zeroPadding } from "@vmstream/framing";
import { CONTEXT_MAGIC } from "@vmstream/wire-spec";
import { CONTEXT_END, CONTEXT_HEADER, CONTEXT_V2_OPTION_BIG_ENDIAN, type ContextStream } from "./model.js";

export interface ContextWriterHeader {
  version: 1 | 2;
  xenMajor: number;
  xenMinor: number;
  bigEndian: boolean;
}

/** Bytes of the stream header (v2) or the HEADER record (v1). */
export function contextHeaderBytes(h: ContextWriterHeader): Uint8Array {
  const w = new ByteWriter(24);
  if (h.version === 1) {
    if (h.bigEndian) throw new RefusedError("context@1 has no big-endian records");
    w.u16le(CONTEXT_HEADER).u16le(0).u32le(12);
    w.u32le(CONTEXT_MAGIC).u16le(h.xenMajor).u16le(h.xenMinor).u32le(1).zeros(4);
  } else {
    w.u32be(CONTEXT_MAGIC).u32be(2).u16be(h.bigEndian ? CONTEXT_V2_OPTION_BIG_ENDIAN : 0).u16be(0);
    w.u16be(h.xenMajor).u16be(h.xenMinor);
  }
  return w.finish();
}

/**
 * The descriptor for a record in the given layout. Refuses (naming the record)
 * what the layout cannot represent, so nothing is ever truncated silently.
 */
export function contextDescriptorBytes(
  h: ContextWriterHeader,
  type: number,
  instance: number,
  length: number,
  w: ByteWriter = new ByteWriter(16),
  index = -1,
): Uint8Array {
  writeContextDescriptor(w.reset(), h, type, instance, length, index);
  return w.finish();
}

/** Append a descriptor to `w` (no allocation: the record's name is built only when refusing). */
export function writeContextDescriptor(w: ByteWriter, h: ContextWriterHeader, type: number, instance: number, length: number, index = -1): void {
  if (h.version === 1) {
    if (type > 0xffff || instance > 0xffff || length > 0xffff_ffff) {
      const name = index >= 0 ? `record[${index}] (type ${type}, instance ${instance})` : `record (type ${type})`;
      if (type > 0xffff) throw new RefusedError(`${name}: type ${type} does not fit context@1's u16 type`);
      if (instance > 0xffff) throw new RefusedError(`${name}: instance ${instance} does not fit context@1's u16 instance`);
      throw new RefusedError(`${name}: length ${length} does not fit context@1's u32 length`);
    }
    w.u16le(type).u16le(instance).u32le(length);
  } else {
    const le = !h.bigEndian;
    // u64 as two u32 halves: no bigint per record.
    const hi = Math.floor(length / 0x1_0000_0000);
    const lo = length >>> 0;
    w.u32(type, le).u32(instance, le);
    if (le) w.u32le(lo).u32le(hi);
    else w.u32be(hi).u32be(lo);
  }
}


/** Check a record can be written: END and HEADER are implicit. */
export function checkRecordType(type: number, index: number): void {
  if (type === CONTEXT_END || type === CONTEXT_HEADER) {
    throw new RefusedError(`record[${index}]: type ${type} is ${type === 0 ? "END" : "the reserved HEADER type"}; it is written implicitly`);
  }
}

/** Write a whole in-memory stream (header, records, END). */
export async function writeContext(s: ContextStream, out: Pick<Sink, "write">): Promise<void> {
  const h: ContextWriterHeader = { version: s.version, xenMajor: s.xenMajor, xenMinor: s.xenMinor, bigEndian: s.bigEndian };
  await out.write(contextHeaderBytes(h));
  const w = new ByteWriter(16);
  for (let i = 0; i < s.records.length; i++) {
    const rec = s.records[i]!;
    checkRecordType(rec.type, i);
    await out.write(contextDescriptorBytes(h, rec.type, rec.instance, rec.body.byteLength, w, i));
    await out.write(rec.body);
    await out.write(zeroPadding(padding8(rec.body.byteLength)));
  }
  await out.write(contextDescriptorBytes(h, CONTEXT_END, 0, 0, w));
}
