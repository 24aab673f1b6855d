/**
 * RAM section records ("ram", version 4). Each record is a be64 word (page
 * offset in its block | flags below the page size) and a flag-specific payload.
 * The current block name carries across records *and sections*, so the reader
 * state lives for the whole stream.
 */
import { ByteWriter, LimitError, MalformedError, type StreamReader, hex } from "@vmstream/framing";
import { ENCODING_FLAG_XBZRLE, RAM_FLAG, RAM_PAGE_FLAGS, RAM_RECORD_KINDS, compressBound } from "./constants.js";
import { bytesToLatin1, latin1ToBytes } from "../latin1.js";
import { MappedCursor, readMapped, type MappedHeader, type MappedPiece } from "./mapped-ram.js";
import { checkXbzrle } from "./xbzrle.js";

export interface RamBlock {
  name: string;
  length: number;
  /** Postcopy: the block's page size when it differs from the host's. */
  pageSize?: number;
  /** x-ignore-shared: the block's guest physical address. */
  gpa?: number;
  /** mapped-ram: the block's header (where its bitmap and pages lie in the file). */
  mapped?: MappedHeader;
}

export interface RamRecord {
  offset: number;
  flags: number;
  /** The word without its flag bits: a page offset, or the byte total of MEM_SIZE. */
  addr: number;
  /** The block name when the record carries one (no CONTINUE). */
  block: string | null;
  fill: number;
  blocks: RamBlock[] | null;
  /** PAGE / COMPRESS_PAGE / XBZRLE payload: a view valid until the next read; null when skipped. */
  data: Uint8Array | null;
  dataLength: number;
  /** XBZRLE encoding byte. */
  xflag: number;
  /**
   * mapped-ram pseudo-record: a block's header and bitmap (`blocks` holds the
   * block), or a run of present pages at `addr` in `block`. No flags word.
   */
  mapped?: MappedPiece;
}

export interface RamTotals {
  records: number;
  pages: number;
  zeroPages: number;
  compressedPages: number;
  xbzrlePages: number;
  /** Payload bytes of PAGE/COMPRESS/XBZRLE records. */
  pageBytes: number;
}

export class RamState {
  current: string | null = null;
  readonly blocks = new Map<string, number>();
  /** Records have been read, so the page size can no longer change. */
  used = false;
  ignoreShared = false;
  postcopyAdvised = false;
  /** The configuration lists the mapped-ram capability. */
  mappedRam = false;
  /** Inside a mapped-ram MEM_SIZE record. */
  mapped: MappedCursor | null = null;
  readonly totals: RamTotals = { records: 0, pages: 0, zeroPages: 0, compressedPages: 0, xbzrlePages: 0, pageBytes: 0 };
  /**
   * Read mapped-ram bitmaps (and count the pages they mark into `totals`).
   * verify turns it off and seeks over them: QEMU's loader uses a bitmap only
   * to choose the pages it loads, and a verify loads none. A 64 GiB guest's
   * bitmap is 2 MiB; reading and counting it was most of the difference
   * between verifying that file and a plain stream of its data. Block records
   * then carry `bitmap: null`.
   */
  bitmaps = true;
  /**
   * Pages sent so far, one bit per page per block (made on a block's first
   * page), so an XBZRLE record can be checked to apply to a page sent earlier.
   */
  readonly sent = new Map<string, Uint8Array>();
  private sentBytes = 0;
  constructor(public pageSize: number) {}

  /** The sent-page bitmap of `block`, or null when its length is unknown. */
  sentMap(block: string, at: number): Uint8Array | null {
    let m = this.sent.get(block);
    if (m) return m;
    const len = this.blocks.get(block);
    if (len === undefined) return null;
    const n = Math.ceil(len / this.pageSize / 8);
    if (this.sentBytes + n > MAX_SENT_BITMAPS) throw new LimitError(`RAM blocks of more than ${MAX_SENT_BITMAPS * 8} pages in all`, at);
    this.sentBytes += n;
    m = new Uint8Array(n);
    this.sent.set(block, m);
    return m;
  }
}

/** 256 MiB of bitmaps: 8 TiB of guest RAM at 4 KiB pages. */
const MAX_SENT_BITMAPS = 256 << 20;

const word = (b: Uint8Array, at: number, what: string): number => {
  const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const lo = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  if (hi > 0x1fffff) throw new MalformedError(`${what} above 2^53 is not supported`, at, { found: hex((BigInt(hi) << 32n) | BigInt(lo)) });
  return hi * 0x1_0000_0000 + lo;
};

async function name(input: StreamReader, what: string): Promise<string> {
  const at = input.offset;
  if (input.buffered < 1) await input.need(1, what);
  const n = input.take(1)[0]!;
  if (n === 0) throw new MalformedError(`empty ${what}`, at);
  if (input.buffered < n) await input.need(n, what);
  return bytesToLatin1(input.take(n));
}

async function be64(input: StreamReader, what: string): Promise<number> {
  const at = input.offset;
  if (input.buffered < 8) await input.need(8, what);
  return word(input.take(8), at, what);
}

/**
 * Read one record. `keep` false skips page payloads (seeking on files); XBZRLE
 * payloads are always read, since they are small and checked.
 */
export async function readRamRecord(input: StreamReader, st: RamState, keep: boolean): Promise<RamRecord> {
  if (st.mapped) {
    const m = await readMapped(input, st, keep);
    if (m) return m;
  }
  const offset = input.offset;
  const ps = st.pageSize;
  // Buffered words and skips are handled without awaiting: one promise per record, not three.
  const w = input.buffered >= 8 ? word(input.take(8), offset, "RAM record") : await be64(input, "RAM record");
  const flags = w % ps;
  const addr = w - flags;
  st.used = true;
  st.totals.records++;
  const rec: RamRecord = { offset, flags, addr, block: null, fill: 0, blocks: null, data: null, dataLength: 0, xflag: 0 };
  const kind = flags & ~RAM_FLAG.CONTINUE;
  if (!RAM_RECORD_KINDS.has(kind))
    throw new MalformedError(`unknown combination of RAM flags ${hex(flags)}`, offset + 7, { expected: "one of ZERO, MEM_SIZE, PAGE, EOS, XBZRLE, HOOK, COMPRESS_PAGE, MULTIFD_FLUSH (plus CONTINUE)" });
  if (flags & RAM_PAGE_FLAGS) {
    let blockName: string;
    if (flags & RAM_FLAG.CONTINUE) {
      if (st.current === null) throw new MalformedError("RAM CONTINUE record with no block named before", offset + 7);
      blockName = st.current;
    } else {
      const nat = input.offset;
      blockName = await name(input, "RAM block name");
      if (st.blocks.size > 0 && !st.blocks.has(blockName))
        throw new MalformedError(`unknown RAM block "${blockName}"`, nat, { expected: [...st.blocks.keys()].join(", ") });
      rec.block = blockName;
      st.current = blockName;
    }
    const len = st.blocks.get(blockName);
    if (len !== undefined && addr >= len)
      throw new MalformedError(`RAM offset ${hex(addr)} beyond block "${blockName}" (${hex(len)} bytes)`, offset);
    const sent = st.sentMap(blockName, offset);
    if (sent) {
      const page = addr / ps;
      const bit = 1 << (page & 7);
      if (kind === RAM_FLAG.XBZRLE && !(sent[page >>> 3]! & bit))
        throw new MalformedError(`XBZRLE delta for page ${hex(addr)} of "${blockName}", which the stream has not sent before`, offset, {
          expected: "an earlier PAGE, ZERO or compressed record for this page",
        });
      sent[page >>> 3]! |= bit;
    }
  }
  switch (kind) {
    case RAM_FLAG.MEM_SIZE: {
      rec.blocks = [];
      if (st.mappedRam) {
        // The blocks follow as mapped-ram pieces, each with its bitmap and pages.
        st.mapped = new MappedCursor(addr);
        break;
      }
      let left = addr;
      while (left > 0) {
        const bat = input.offset;
        const b: RamBlock = { name: await name(input, "RAM block name"), length: 0 };
        b.length = await be64(input, "RAM block length");
        // A postcopy destination reads the block page size when it differs from the host's:
        // it shows as a be64 where the next name's length byte (never 0) would be.
        if (st.postcopyAdvised && left - b.length > 0) {
          if (input.buffered < 1) await input.need(1, "RAM block list");
          if (input.peek(1)[0] === 0) b.pageSize = await be64(input, "RAM block page size");
        }
        if (st.ignoreShared) b.gpa = await be64(input, "RAM block address");
        if (b.length > left) throw new MalformedError(`RAM block "${b.name}" length exceeds the announced total`, bat, { expected: `at most ${left}`, found: String(b.length) });
        left -= b.length;
        if (rec.blocks.length >= 4096) throw new LimitError("more than 4096 RAM blocks", bat);
        rec.blocks.push(b);
        st.blocks.set(b.name, b.length);
      }
      break;
    }
    case RAM_FLAG.ZERO:
      if (input.buffered < 1) await input.need(1, "RAM fill byte");
      rec.fill = input.take(1)[0]!;
      st.totals.zeroPages++;
      break;
    case RAM_FLAG.PAGE:
      rec.dataLength = ps;
      st.totals.pages++;
      st.totals.pageBytes += ps;
      if (keep) {
        if (input.buffered < ps) await input.need(ps, "RAM page");
        rec.data = input.take(ps);
      } else if (input.buffered >= ps) {
        input.take(ps);
      } else {
        await input.skip(ps, "RAM page");
      }
      break;
    case RAM_FLAG.COMPRESS_PAGE: {
      const at = input.offset;
      if (input.buffered < 4) await input.need(4, "compressed page length");
      const b = input.take(4);
      const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
      if (n > compressBound(ps)) throw new MalformedError("compressed page length out of range", at, { expected: `at most ${compressBound(ps)}`, found: String(n) });
      rec.dataLength = n;
      st.totals.compressedPages++;
      st.totals.pageBytes += n;
      if (keep) {
        if (input.buffered < n) await input.need(n, "compressed page");
        rec.data = input.take(n);
      } else {
        await input.skip(n, "compressed page");
      }
      break;
    }
    case RAM_FLAG.XBZRLE: {
      const at = input.offset;
      if (input.buffered < 3) await input.need(3, "XBZRLE header");
      const b = input.take(3);
      rec.xflag = b[0]!;
      if (rec.xflag !== ENCODING_FLAG_XBZRLE) throw new MalformedError("bad XBZRLE encoding flag", at, { expected: "0x01", found: hex(rec.xflag, 2) });
      const n = (b[1]! << 8) | b[2]!;
      if (n > ps) throw new MalformedError("XBZRLE length above the page size", at + 1, { expected: `at most ${ps}`, found: String(n) });
      if (input.buffered < n) await input.need(n, "XBZRLE data");
      const dat = input.offset;
      rec.data = input.take(n);
      rec.dataLength = n;
      checkXbzrle(rec.data, ps, dat);
      st.totals.xbzrlePages++;
      st.totals.pageBytes += n;
      break;
    }
    default:
      // EOS, HOOK (RDMA only; nothing follows on a file), MULTIFD_FLUSH: no payload.
      break;
  }
  return rec;
}

const PLAIN_PAGE = RAM_FLAG.CONTINUE | RAM_FLAG.PAGE;
const PLAIN_ZERO = RAM_FLAG.CONTINUE | RAM_FLAG.ZERO;
/** Larger pages are rare and cheap per byte anyway: they stay on the record-by-record path. */
const PLAIN_MAX_PAGE = 64 << 10;

/**
 * Length of the run of plain records at the start of `v`: CONTINUE PAGE and
 * ZERO records, each complete in `v`, inside the current block. Such a run
 * re-encodes to exactly its own bytes, so callers pass it on (or drop it)
 * whole instead of record by record. The run stops before anything else,
 * including a record that is malformed: `readRamRecord` then reads that one
 * and reports it at its own offset. Counts the run in `st.totals`.
 */
export function plainRun(v: Uint8Array, st: RamState): number {
  const ps = st.pageSize;
  if (st.current === null || st.mapped !== null || ps > PLAIN_MAX_PAGE || ps < 16 || (ps & (ps - 1)) !== 0) return 0;
  const mask = ps - 1;
  const limit = st.blocks.get(st.current) ?? Number.POSITIVE_INFINITY;
  const sent = st.sentMap(st.current, 0);
  const end = v.byteLength;
  const page = 8 + ps;
  let p = 0;
  let pages = 0;
  let zeros = 0;
  while (p + 9 <= end) {
    const hi = ((v[p]! << 24) | (v[p + 1]! << 16) | (v[p + 2]! << 8) | v[p + 3]!) >>> 0;
    const lo = ((v[p + 4]! << 24) | (v[p + 5]! << 16) | (v[p + 6]! << 8) | v[p + 7]!) >>> 0;
    const flags = lo & mask;
    const addr = hi * 0x1_0000_0000 + (lo - flags);
    if (hi > 0x1fffff || addr >= limit) break;
    if (flags === PLAIN_PAGE) {
      if (p + page > end) break;
      p += page;
      pages++;
    } else if (flags === PLAIN_ZERO) {
      p += 9;
      zeros++;
    } else {
      break;
    }
    // Only records the run takes: an XBZRLE record that stops it is checked against these bits.
    if (sent) {
      const i = addr / ps;
      sent[i >>> 3]! |= 1 << (i & 7);
    }
  }
  if (p > 0) {
    const t = st.totals;
    st.used = true;
    t.records += pages + zeros;
    t.pages += pages;
    t.zeroPages += zeros;
    t.pageBytes += pages * ps;
  }
  return p;
}

/** Write a record's word and payload (the payload bytes come from `rec.data`). */
export function writeRamRecord(w: ByteWriter, rec: RamRecord, st: RamState): void {
  const ps = st.pageSize;
  if (rec.flags < 0 || rec.flags >= ps || rec.addr % ps !== 0 || !Number.isSafeInteger(rec.addr) || rec.addr < 0)
    throw new MalformedError(`RAM record: addr must be a multiple of ${ps} and flags below it`, 0, { found: `${rec.addr}/${rec.flags}` });
  const word = rec.addr + rec.flags;
  w.u32be(Math.floor(word / 0x1_0000_0000)).u32be(word >>> 0);
  const flags = rec.flags;
  const kind = flags & ~RAM_FLAG.CONTINUE;
  if (flags & RAM_PAGE_FLAGS && !(flags & RAM_FLAG.CONTINUE)) {
    if (rec.block === null) throw new MalformedError("RAM record without CONTINUE needs a block name", 0);
    writeName(w, rec.block);
    st.current = rec.block;
  }
  switch (kind) {
    case RAM_FLAG.MEM_SIZE:
      for (const b of rec.blocks ?? []) {
        writeName(w, b.name);
        w.u64be(BigInt(b.length));
        if (b.pageSize !== undefined) w.u64be(BigInt(b.pageSize));
        if (b.gpa !== undefined) w.u64be(BigInt(b.gpa));
      }
      break;
    case RAM_FLAG.ZERO:
      w.u8(rec.fill & 0xff);
      break;
    case RAM_FLAG.PAGE:
      need(rec, ps);
      w.bytes(rec.data!);
      break;
    case RAM_FLAG.COMPRESS_PAGE:
      need(rec, -1);
      w.u32be(rec.data!.byteLength).bytes(rec.data!);
      break;
    case RAM_FLAG.XBZRLE:
      need(rec, -1);
      w.u8(rec.xflag).u16be(rec.data!.byteLength).bytes(rec.data!);
      break;
    default:
      break;
  }
}

function need(rec: RamRecord, n: number): void {
  if (!rec.data || (n >= 0 && rec.data.byteLength !== n))
    throw new MalformedError(`RAM record needs ${n >= 0 ? `${n} bytes of ` : ""}data`, 0, { found: String(rec.data?.byteLength ?? "none") });
}

function writeName(w: ByteWriter, s: string): void {
  const b = latin1ToBytes(s);
  if (!b || b.byteLength === 0 || b.byteLength > 255) throw new MalformedError("RAM block name must be 1-255 latin1 chars", 0, { found: JSON.stringify(s) });
  w.u8(b.byteLength).bytes(b);
}

