/**
 * mapped-ram (QEMU 9.0+, `migrate_set_capability mapped-ram on` with a
 * `file:` URI). The RAM section's MEM_SIZE record lists each block as usual
 * (name, length, x-ignore-shared address) followed by a fixed header:
 *
 *     be32 version (1), be64 page size, be64 bitmap offset, be64 pages offset
 *
 * The block's bitmap (one bit per page, little-endian 64-bit words, set when
 * the page's bytes are in the file) lies at the bitmap offset; page N lies at
 * pages offset + N × page size (the pages offset is 1 MiB-aligned); the stream
 * continues at pages offset + block length with the next block. Pages never
 * appear as records. Everything between is a hole in the file QEMU writes.
 *
 * Read forward only: header, bitmap, present pages in order (seeking over the
 * absent ones), then on to the next block. Each piece comes out as a
 * pseudo-record (`RamRecord.mapped`) so the event stream keeps file order.
 */
import { LimitError, MalformedError, type StreamReader, hex } from "@vmstream/framing";
import type { RamBlock, RamRecord, RamState } from "./ram.js";
import { bytesToLatin1 } from "../latin1.js";

export const MAPPED_RAM_VERSION = 1;
export const MAPPED_RAM_HEADER_SIZE = 28;
/** QEMU aligns each block's pages to 1 MiB of file offset. */
export const MAPPED_RAM_ALIGN = 0x100000;
/** One block's bitmap, at most: 8 TiB of guest at 4 KiB pages. */
const MAX_BITMAP = 256 << 20;
/** Present pages per pseudo-record when pages are read (1 MiB at 4 KiB pages). */
const RUN_PAGES = 256;

export interface MappedHeader {
  version: number;
  pageSize: number;
  bitmapOffset: number;
  pagesOffset: number;
}

/** A block's header record carries its bitmap, or null when the reader skipped it (`RamState.bitmaps` off). */
export type MappedPiece = { kind: "block"; bitmap: Uint8Array | null } | { kind: "pages"; count: number };

/** Where the reader is inside the MEM_SIZE record of a mapped-ram stream. */
export class MappedCursor {
  /** Bytes of block length still to be listed. */
  left: number;
  /** The block being read; `gap` until the zeros between its bitmap and its pages have been checked. */
  blk: { name: string; pagesOffset: number; end: number; bitmap: Uint8Array; pages: number; next: number; gap: boolean } | null = null;
  constructor(total: number) {
    this.left = total;
  }
}

/** Bytes of a bitmap for `pages` pages: whole 64-bit words, as QEMU stores it. */
export const bitmapBytes = (pages: number): number => Math.ceil(pages / 64) * 8;

/** The cursor's bitmap when none was read: pages are then never visited (`keep` is off). */
const EMPTY = new Uint8Array(0);

const bitSet = (bm: Uint8Array, i: number): boolean => (bm[i >>> 3]! & (1 << (i & 7))) !== 0;

/** Set bits of one byte, by table. */
const BYTE_BITS = Uint8Array.from({ length: 256 }, (_, v) => {
  let n = 0;
  for (let b = v; b; b &= b - 1) n++;
  return n;
});

/**
 * Set bits of a bitmap at any alignment (a view into the reader's buffer
 * lies wherever the file put it). A 64 GiB guest's bitmap is 2 MiB: counted
 * 32 bits at a time (SWAR) it costs well under a millisecond.
 */
function popcount(bm: Uint8Array): number {
  let n = 0;
  let i = 0;
  const head = Math.min(bm.byteLength, (4 - (bm.byteOffset & 3)) & 3);
  for (; i < head; i++) n += BYTE_BITS[bm[i]!]!;
  const words = new Int32Array(bm.buffer, bm.byteOffset + i, (bm.byteLength - i) >>> 2);
  const len = words.length;
  for (let k = 0; k < len; k++) {
    // A large guest holding little data has bitmaps of mostly zero words: pass eight at a time.
    if ((k & 7) === 0 && k + 8 <= len && (words[k]! | words[k + 1]! | words[k + 2]! | words[k + 3]! | words[k + 4]! | words[k + 5]! | words[k + 6]! | words[k + 7]!) === 0) {
      k += 7;
      continue;
    }
    let v = words[k]!;
    if (v === 0) continue;
    v = v - ((v >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    n += Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
  }
  for (i += words.length << 2; i < bm.byteLength; i++) n += BYTE_BITS[bm[i]!]!;
  return n;
}

async function be64(input: StreamReader, what: string): Promise<number> {
  const at = input.offset;
  await input.need(8, what);
  const b = input.take(8);
  const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  const lo = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
  if (hi > 0x1fffff) throw new MalformedError(`${what} above 2^53 is not supported`, at);
  return hi * 0x1_0000_0000 + lo;
}

/** Skip forward to absolute offset `to` (an offset behind the reader is a layout this reader refuses). */
async function seekTo(input: StreamReader, to: number, what: string, at: number): Promise<void> {
  const gap = to - input.offset;
  if (gap < 0) throw new MalformedError(`mapped-ram ${what} lies before data already read`, at, { expected: `at least ${input.offset}`, found: String(to) });
  if (gap > 0) await input.skip(gap, what);
}

/** Read `n` bytes that must be zero (the gap QEMU leaves before the pages). */
async function zeros(input: StreamReader, n: number, what: string): Promise<void> {
  while (n > 0) {
    const k = Math.min(n, 1 << 16);
    const at = input.offset;
    await input.need(k, what);
    if (!input.skipZeros(k)) {
      const v = input.take(k);
      let i = 0;
      while (v[i] === 0) i++;
      throw new MalformedError(`non-zero byte in ${what}`, at + i, { expected: "0x00", found: hex(v[i]!, 2) });
    }
    n -= k;
  }
}

/**
 * The next piece of a mapped-ram MEM_SIZE record, or null once every block
 * has been read and the reader stands where the stream continues.
 */
export async function readMapped(input: StreamReader, st: RamState, keep: boolean): Promise<RamRecord | null> {
  const cur = st.mapped!;
  const ps = st.pageSize;
  for (;;) {
    const b = cur.blk;
    if (b) {
      if (b.gap) {
        // QEMU's loader never reads the gap between a bitmap and its pages, so
        // a reader that skips pages (verify, inspect) seeks over it too and
        // accepts what QEMU accepts. A reader that keeps pages (decode,
        // recode, convert) writes the gap as a hole, so it must be zeros, or
        // the copy would lose bytes. Checked after the block's record went
        // out, so that a bitmap handed out as a view was used before this reads on.
        if (keep) await zeros(input, b.pagesOffset - input.offset, "the gap before mapped-ram pages");
        b.gap = false;
      }
      if (keep) {
        let i = b.next;
        while (i < b.pages && !bitSet(b.bitmap, i)) i++;
        if (i < b.pages) {
          let n = 1;
          while (n < RUN_PAGES && i + n < b.pages && bitSet(b.bitmap, i + n)) n++;
          const at = b.pagesOffset + i * ps;
          await seekTo(input, at, "page", input.offset);
          await input.need(n * ps, "mapped-ram pages");
          b.next = i + n;
          const rec: RamRecord = { offset: at, flags: 0, addr: i * ps, block: b.name, fill: 0, blocks: null, data: input.take(n * ps), dataLength: n * ps, xflag: 0 };
          rec.mapped = { kind: "pages", count: n };
          return rec;
        }
      }
      await seekTo(input, b.end, "next block", input.offset);
      cur.blk = null;
    }
    if (cur.left === 0) {
      st.mapped = null;
      return null;
    }
    return readBlock(input, st, cur, ps, keep);
  }
}

async function readBlock(input: StreamReader, st: RamState, cur: MappedCursor, ps: number, keep: boolean): Promise<RamRecord> {
  const bat = input.offset;
  await input.need(1, "RAM block name");
  const n = input.take(1)[0]!;
  if (n === 0) throw new MalformedError("empty RAM block name", bat);
  await input.need(n, "RAM block name");
  const block: RamBlock = { name: bytesToLatin1(input.take(n)), length: 0 };
  block.length = await be64(input, "RAM block length");
  if (st.ignoreShared) block.gpa = await be64(input, "RAM block address");
  if (block.length > cur.left)
    throw new MalformedError(`RAM block "${block.name}" length exceeds the announced total`, bat, { expected: `at most ${cur.left}`, found: String(block.length) });
  if (block.length % ps !== 0) throw new MalformedError(`RAM block "${block.name}" length is not a whole number of pages`, bat, { found: String(block.length) });
  if (st.blocks.size >= 4096) throw new LimitError("more than 4096 RAM blocks", bat);
  const hat = input.offset;
  const r = await input.read(MAPPED_RAM_HEADER_SIZE, "mapped-ram header");
  const version = r.u32be();
  const big = (v: bigint, at: number, what: string): number => {
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedError(`mapped-ram ${what} above 2^53`, at, { found: hex(v) });
    return Number(v);
  };
  const hps = big(r.u64be(), hat + 4, "page size");
  const bitmapOffset = big(r.u64be(), hat + 12, "bitmap offset");
  const pagesOffset = big(r.u64be(), hat + 20, "pages offset");
  if (version !== MAPPED_RAM_VERSION) throw new MalformedError("unknown mapped-ram header version", hat, { expected: String(MAPPED_RAM_VERSION), found: String(version) });
  if (hps !== ps) throw new MalformedError("mapped-ram page size differs from the stream's", hat + 4, { expected: String(ps), found: String(hps) });
  const pages = block.length / ps;
  const bmLen = bitmapBytes(pages);
  if (bmLen > MAX_BITMAP) throw new LimitError(`mapped-ram bitmap of ${bmLen} bytes (a block above ${MAX_BITMAP * 8} pages)`, bat);
  if (pagesOffset % MAPPED_RAM_ALIGN !== 0)
    throw new MalformedError("mapped-ram pages offset is not 1 MiB-aligned", hat + 20, { found: hex(pagesOffset) });
  if (pagesOffset < bitmapOffset + bmLen)
    throw new MalformedError("mapped-ram pages overlap the bitmap", hat + 20, { expected: `at least ${bitmapOffset + bmLen}`, found: String(pagesOffset) });
  const end = pagesOffset + block.length;
  // The stream goes on after the block's pages, so a file that ends before them is cut short.
  if (input.size !== undefined && end > input.size)
    throw new MalformedError(`mapped-ram pages of "${block.name}" run past the end of the file`, hat + 20, { expected: `at most ${input.size}`, found: String(end) });
  block.mapped = { version, pageSize: hps, bitmapOffset, pagesOffset };
  await seekTo(input, bitmapOffset, "bitmap", hat + 12);
  const mat = input.offset;
  // bmLen is backed by the file: the pages lie beyond it, inside its size.
  // When pages are read the bitmap must outlive the reader's buffer (it says
  // which pages follow): it is read straight into its own memory. Otherwise
  // it is a view like any record's bytes, valid until the next read: fresh
  // memory costs a page fault per 4 KiB on first touch. With bitmaps off
  // (verify) it is not read at all: the seek to the pages passes over it.
  let bitmap: Uint8Array | null = null;
  if (keep) {
    bitmap = new Uint8Array(bmLen);
    await input.readInto(bitmap, "mapped-ram bitmap");
  } else if (st.bitmaps) {
    await input.need(bmLen, "mapped-ram bitmap");
    bitmap = input.take(bmLen);
  }
  if (bitmap) {
    for (let i = pages; i < bmLen * 8; i++)
      if (bitSet(bitmap, i)) throw new MalformedError(`mapped-ram bitmap of "${block.name}" marks page ${i} beyond the block`, mat + (i >>> 3));
    const present = popcount(bitmap);
    st.totals.pages += present;
    st.totals.pageBytes += present * ps;
  }
  cur.left -= block.length;
  cur.blk = { name: block.name, pagesOffset, end, bitmap: bitmap ?? EMPTY, pages, next: 0, gap: true };
  st.blocks.set(block.name, block.length);
  const rec: RamRecord = { offset: bat, flags: 0, addr: 0, block: null, fill: 0, blocks: [block], data: null, dataLength: 0, xflag: 0 };
  rec.mapped = { kind: "block", bitmap };
  return rec;
}

/** Pages set in a block's bitmap, in order, as [first, count] runs. */
export function* presentRuns(bitmap: Uint8Array, pages: number): Generator<[number, number]> {
  let i = 0;
  while (i < pages) {
    while (i < pages && !bitSet(bitmap, i)) i++;
    if (i >= pages) return;
    let n = 1;
    while (i + n < pages && bitSet(bitmap, i + n)) n++;
    yield [i, n];
    i += n;
  }
}
