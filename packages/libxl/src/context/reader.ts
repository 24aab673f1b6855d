import {
  LimitError,
  MalformedError,
  type StreamReader,
  TruncatedError,
  WireError,
  hex,
  readPadding,
} from "@vmstream/framing";
import { CONTEXT_MAGIC } from "@vmstream/wire-spec";
import { CONTEXT_END, CONTEXT_HEADER, CONTEXT_V2_OPTION_BIG_ENDIAN } from "./model.js";

/** What precedes the records: read before any descriptor is parsed. */
export interface ContextHeaderInfo {
  version: 1 | 2;
  xenMajor: number;
  xenMinor: number;
  bigEndian: boolean;
  /** Offset of the first record descriptor after the header. */
  recordsOffset: number;
}

export interface ContextDescriptor {
  index: number;
  type: number;
  instance: number;
  length: number;
  offset: number;
  bodyOffset: number;
}

/** v1: the HEADER record (descriptor + 12-byte body + 4 bytes padding) is the first 24 bytes. */
const V1_HEADER_BYTES = 24;
const V2_HEADER_BYTES = 16;

/** Version announced by the first bytes, or null when they are not a context stream. */
export function detectContext(head: Uint8Array): string | null {
  if (head.length < 8) return null;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (dv.getUint32(0, false) === CONTEXT_MAGIC) return String(dv.getUint32(4, false));
  if (head.length >= 12 && dv.getUint16(0, true) === CONTEXT_HEADER && dv.getUint32(4, true) === 12 && dv.getUint32(8, true) === CONTEXT_MAGIC) {
    return "1";
  }
  return null;
}

export async function readContextHeader(r: StreamReader, expected?: "1" | "2"): Promise<ContextHeaderInfo> {
  const start = r.offset;
  // Both headers are at least 16 bytes (v1's HEADER record is 24, v2's header 16); a pipe may deliver fewer at a time.
  if (!(await r.fill(16)) && r.buffered < 8) throw new TruncatedError("stream header", start, 8, r.buffered);
  const head = r.peek(16);
  const found = detectContext(head);
  if (found === null) {
    throw new WireError("BAD_MAGIC", "not a domain context stream", start, {
      expected: `magic ${hex(CONTEXT_MAGIC, 8)} ("SAVE")`,
    });
  }
  if (found !== "1" && found !== "2") {
    throw new WireError("UNSUPPORTED_VERSION", `unsupported context stream version ${found}`, start + 4, { expected: "1 or 2" });
  }
  if (expected && expected !== found) {
    throw new WireError("UNSUPPORTED_VERSION", `stream is context@${found}`, start + (found === "1" ? 16 : 4), { expected: `context@${expected}` });
  }
  if (found === "1") {
    const h = await r.read(V1_HEADER_BYTES, "HEADER record");
    h.skip(2); // type, matched by detect
    const instance = h.u16le();
    if (instance !== 0) throw new MalformedError("HEADER record instance must be 0", start + 2, { found: String(instance) });
    h.skip(8); // length (12) + magic, matched by detect
    const xenMajor = h.u16le();
    const xenMinor = h.u16le();
    const versionAt = h.offset;
    const version = h.u32le();
    if (version !== 1) throw new WireError("UNSUPPORTED_VERSION", `HEADER version ${version}`, versionAt, { expected: "1" });
    h.zeros(4, "HEADER padding");
    return { version: 1, xenMajor, xenMinor, bigEndian: false, recordsOffset: r.offset };
  }
  const h = await r.read(V2_HEADER_BYTES, "stream header");
  h.skip(8);
  const optionsAt = h.offset;
  const options = h.u16be();
  if ((options & ~CONTEXT_V2_OPTION_BIG_ENDIAN) !== 0) {
    throw new WireError("RESERVED_BITS", "reserved option bits set", optionsAt, { expected: "only bit 0", found: hex(options, 4) });
  }
  const reservedAt = h.offset;
  if (h.u16be() !== 0) throw new WireError("RESERVED_BITS", "reserved header field is not zero", reservedAt);
  const xenMajor = h.u16be();
  const xenMinor = h.u16be();
  return { version: 2, xenMajor, xenMinor, bigEndian: (options & CONTEXT_V2_OPTION_BIG_ENDIAN) !== 0, recordsOffset: r.offset };
}

/** Bytes of one record descriptor in the stream's layout. */
export const descriptorSize = (h: ContextHeaderInfo): number => (h.version === 1 ? 8 : 16);

/**
 * Read the next descriptor. Returns null after a valid END, having checked that
 * nothing follows it. The body is left in the reader for the caller, who must
 * consume exactly `length` bytes and then call `finishContextRecord`.
 */
export async function readContextDescriptor(r: StreamReader, h: ContextHeaderInfo, index: number): Promise<ContextDescriptor | null> {
  return nextContextDescriptor(r, h, index);
}

/**
 * `readContextDescriptor` without a promise when the descriptor is already
 * buffered (nearly always): hot loops test `instanceof Promise` and await only
 * then, which saves a microtask and an allocation per record.
 */
export function nextContextDescriptor(
  r: StreamReader,
  h: ContextHeaderInfo,
  index: number,
  into?: ContextDescriptor,
): ContextDescriptor | null | Promise<ContextDescriptor | null> {
  if (r.buffered < descriptorSize(h)) return fillThenNext(r, h, index, into);
  const d = takeDescriptor(r, h, index, into);
  return d.type === CONTEXT_END ? endOfStream(r, index) : d;
}

/** A descriptor to pass as `into` in loops that do not keep one past the next call: then none is allocated per record. */
export const scratchDescriptor = (): ContextDescriptor => ({ index: 0, type: 0, instance: 0, length: 0, offset: 0, bodyOffset: 0 });

async function fillThenNext(r: StreamReader, h: ContextHeaderInfo, index: number, into?: ContextDescriptor): Promise<ContextDescriptor | null> {
  const size = descriptorSize(h);
  if (!(await r.fill(size))) {
    const path = `record[${index}]`;
    if (r.buffered === 0) throw new TruncatedError("stream: missing END record", r.offset, size, 0, { path });
    throw new TruncatedError("record descriptor", r.offset, size, r.buffered, { path });
  }
  const d = takeDescriptor(r, h, index, into);
  return d.type === CONTEXT_END ? endOfStream(r, index) : d;
}

async function endOfStream(r: StreamReader, index: number): Promise<null> {
  if (!(await r.atEnd())) throw new WireError("TRAILING_BYTES", "bytes after the END record", r.offset, { path: `record[${index}]` });
  return null;
}

/** Decode and check the buffered descriptor, consuming it (no reader object, no path string unless refusing). */
function takeDescriptor(r: StreamReader, h: ContextHeaderInfo, index: number, into?: ContextDescriptor): ContextDescriptor {
  const size = descriptorSize(h);
  const d = parseDescriptor(r.peek(size), 0, r.offset, r.size, h, index, into ?? scratchDescriptor());
  r.discard(size);
  return d;
}

/**
 * Decode and check the descriptor at b[at], whose stream offset is `offset`,
 * into `into`. A length that would run past the end of a stream of known
 * size is refused here, before anything is read for it.
 */
function parseDescriptor(b: Uint8Array, at: number, offset: number, streamSize: number | undefined, h: ContextHeaderInfo, index: number, into: ContextDescriptor): ContextDescriptor {
  const size = descriptorSize(h);
  let type: number;
  let instance: number;
  let length: number;
  if (h.version === 1) {
    type = b[at]! | (b[at + 1]! << 8);
    instance = b[at + 2]! | (b[at + 3]! << 8);
    length = u32(b, at + 4, true);
  } else {
    const le = !h.bigEndian;
    type = u32(b, at, le);
    instance = u32(b, at + 4, le);
    const high = u32(b, at + (le ? 12 : 8), le);
    const low = u32(b, at + (le ? 8 : 12), le);
    if (high > 0x1fffff) {
      throw new LimitError(`record length ${(BigInt(high) << 32n) | BigInt(low)} is beyond any stream`, offset + 8, { path: `record[${index}]` });
    }
    length = high * 0x1_0000_0000 + low;
  }
  if (streamSize !== undefined && length > streamSize - (offset + size)) {
    throw new TruncatedError("record body", offset + size, length, streamSize - (offset + size), { path: `record[${index}](type ${type})` });
  }
  if (type === CONTEXT_END) {
    const path = `record[${index}]`;
    if (instance !== 0) throw new MalformedError("END record instance must be 0", offset + (h.version === 1 ? 2 : 4), { path, found: String(instance) });
    if (length !== 0) throw new MalformedError("END record must be empty", offset + (h.version === 1 ? 4 : 8), { path, found: `length ${length}` });
  } else if (type === CONTEXT_HEADER) {
    throw new MalformedError(
      h.version === 1 ? "HEADER record may only be the first record" : "record type 1 is reserved in version 2 (the header is not a record)",
      offset,
      { path: `record[${index}]` },
    );
  }
  into.index = index;
  into.type = type;
  into.instance = instance;
  into.length = length;
  into.offset = offset;
  into.bodyOffset = offset + size;
  return into;
}

/**
 * Check every whole record already buffered (descriptor, body, zero padding)
 * and consume them, synchronously: no promise, view or object per record,
 * which is what makes a stream of many small records cheap. Stops before END
 * (whose check needs the end of the stream) and at the first record not
 * wholly buffered; returns how many records it consumed, the first being
 * record `index`. `seen` (inspect's listing) gets each, in `scratch`.
 */
export function drainContextRecords(r: StreamReader, h: ContextHeaderInfo, index: number, scratch: ContextDescriptor, seen?: (d: ContextDescriptor) => void): number {
  const size = descriptorSize(h);
  const avail = r.buffered;
  if (avail < size) return 0;
  const win = r.peek(avail);
  const base = r.offset;
  const streamSize = r.size;
  /** Stream bytes from win[0] on, when the size is known: a body must fit in them. */
  const room = streamSize === undefined ? Infinity : streamSize - base;
  let p = 0;
  let n = 0;
  while (avail - p >= size) {
    // The usual record (a type above HEADER, a length below 4 GiB that fits the stream) is read
    // here in a few loads; anything else takes parseDescriptor, which refuses it or reads it whole.
    const type = descriptorType(win, p, h);
    let length = descriptorLength(win, p, h);
    if (type <= CONTEXT_HEADER || length < 0 || length > room - p - size || seen !== undefined) {
      // END is left to nextContextDescriptor: it checks that nothing follows.
      if (type === CONTEXT_END) break;
      length = parseDescriptor(win, p, base + p, streamSize, h, index + n, scratch).length;
    }
    const pad = (8 - (length & 7)) & 7;
    const padAt = p + size + length;
    if (padAt + pad > avail) break;
    for (let k = padAt; k < padAt + pad; k++) {
      if (win[k] !== 0) throw new WireError("NONZERO_PADDING", "non-zero record padding", base + k, { path: `record[${index + n}]`, expected: "0x00", found: hex(win[k]!, 2) });
    }
    seen?.(scratch);
    p = padAt + pad;
    n++;
  }
  if (p) r.discard(p);
  return n;
}

/**
 * What the walk must buffer before draining on, after drainContextRecords
 * stopped: the next descriptor, or the whole next record when that is small
 * (up to `max` bytes); 0 for END or a large record, which take the
 * record-by-record path (nextContextDescriptor, a skip of the body).
 */
export function pendingRecordBytes(r: StreamReader, h: ContextHeaderInfo, max: number): number {
  const size = descriptorSize(h);
  if (r.buffered < size) return size;
  const b = r.peek(size);
  if (descriptorType(b, 0, h) === CONTEXT_END) return 0;
  const length = descriptorLength(b, 0, h);
  if (length < 0) return 0;
  const whole = size + length + ((8 - (length & 7)) & 7);
  return whole <= max ? whole : 0;
}

/** The type of the descriptor at b[at], unchecked (parseDescriptor checks it). */
function descriptorType(b: Uint8Array, at: number, h: ContextHeaderInfo): number {
  return h.version === 1 ? b[at]! | (b[at + 1]! << 8) : u32(b, at, !h.bigEndian);
}

/** The body length of the descriptor at b[at], unchecked; -1 for a v2 length of 4 GiB or more (parseDescriptor decides about it). */
function descriptorLength(b: Uint8Array, at: number, h: ContextHeaderInfo): number {
  if (h.version === 1) return u32(b, at + 4, true);
  const le = !h.bigEndian;
  return u32(b, at + (le ? 12 : 8), le) === 0 ? u32(b, at + (le ? 8 : 12), le) : -1;
}

const u32 = (b: Uint8Array, at: number, le: boolean): number =>
  le
    ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0
    : ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

export async function finishContextRecord(r: StreamReader, d: ContextDescriptor): Promise<void> {
  await readPadding(r, d.length, `record[${d.index}]`);
}
