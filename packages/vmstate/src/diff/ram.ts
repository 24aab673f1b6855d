/**
 * RAM of two saves compared page by page without holding either: each side
 * keeps a 64-bit digest per page (four 32-bit lanes folded) and a carried bit, filled
 * as `exportMemory` walks that stream, then the digests are compared.
 * 8 bytes and a bit per guest page: 8 MiB per side for a 4 GiB guest.
 * Page contents are kept only for a stream with XBZRLE pages, in a
 * `PageStore` the caller gives (a scratch file), never in memory.
 */
import { LimitError, RefusedError } from "@vmstream/framing";
import type { MemoryReport, MemoryTarget } from "../stream/memory.js";
import type { RamBlock } from "../stream/ram.js";

/** Digests of more pages than this per side are refused (256 MiB of digests: 128 GiB of guest at 4 KiB pages). */
const MAX_PAGES = 32 << 20;

interface BlockDigests {
  pageSize: number;
  pages: number;
  length: number;
  digests: Uint32Array;
  carried: Uint8Array;
}

/** xxHash32's primes (odd, with well-spread bits). */
const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;

/**
 * 64 bits from four 32-bit lanes, each over every fourth word of the page at
 * `q` in `dv`, as independent chains (one chain of two dependent multiplies
 * per word ran at half the speed). A lane step is xxHash32's round: add the
 * word times a prime, rotate, multiply. The rotation matters: with a plain
 * multiply-and-xorshift step a difference in a word's top bit passes through
 * the multiply unchanged, whatever the data, so two pages differing in bit 31
 * of one word and bits 31 and 16 of the lane's next word digested the same
 * (diff called them equal). Rotated first, every difference goes through the
 * multiply's carries, which depend on the data. Words are read through a
 * DataView, so a page at any alignment (one after a 9-byte ZERO record) is
 * read in place, with no copy and no view per page.
 */
function digest(dv: DataView, q: number, size: number, out: Uint32Array, at: number): void {
  let a = 0x811c9dc5 | 0;
  let b = 0x9747b28c | 0;
  let c = 0x1b873593;
  let d = 0xcc9e2d51 | 0;
  const e = q + size;
  const whole = q + (size & ~15);
  for (let i = q; i < whole; i += 16) {
    a = (a + Math.imul(dv.getInt32(i, true), P2)) | 0;
    b = (b + Math.imul(dv.getInt32(i + 4, true), P2)) | 0;
    c = (c + Math.imul(dv.getInt32(i + 8, true), P2)) | 0;
    d = (d + Math.imul(dv.getInt32(i + 12, true), P2)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), P1);
    b = Math.imul((b << 13) | (b >>> 19), P1);
    c = Math.imul((c << 13) | (c >>> 19), P1);
    d = Math.imul((d << 13) | (d >>> 19), P1);
  }
  // Page sizes are powers of two of 512 bytes or more, so this tail is empty; kept for any size.
  for (let i = whole; i < e; i++) {
    a = (a + Math.imul(dv.getUint8(i), P2)) | 0;
    a = Math.imul((a << 13) | (a >>> 19), P1);
  }
  out[at] = (Math.imul(a ^ (c >>> 15), 0x85ebca6b | 0) ^ b ^ (d >>> 13)) >>> 0;
  out[at + 1] = (Math.imul(c ^ (a >>> 16), 0xc2b2ae35 | 0) ^ d ^ (b >>> 11)) >>> 0;
}

/**
 * Where a diff keeps page contents when a stream has XBZRLE pages (a delta
 * needs the page it applies to): a scratch store by block and offset, on disk
 * in the CLI. Pages never written read as zero.
 */
export interface PageStore {
  /** A block is known, before any of its pages. */
  block(name: string, length: number): void;
  write(block: string, offset: number, data: Uint8Array): Promise<void> | void;
  read(block: string, offset: number, length: number): Promise<Uint8Array>;
}

/** Thrown by `PageDigests.read` without a store: the caller reads the stream again with one. */
export class NeedsPageStore extends RefusedError {
  constructor(at: number) {
    super("an XBZRLE page needs the content of the page it applies to: read again with a page store", at);
  }
}

/**
 * A MemoryTarget that keeps digests, for `diffRam`. With a `store`, page
 * contents are kept there too, so XBZRLE deltas can be applied to them.
 */
export class PageDigests implements MemoryTarget {
  readonly blocks = new Map<string, BlockDigests>();
  private held = 0;
  private zeroDigest: Uint32Array | null = null;
  /** A DataView of the buffer the last pages came in (the reader's, reused from chunk to chunk). */
  private dv: DataView | null = null;
  constructor(private readonly store: PageStore | null = null) {}

  async block(b: RamBlock, _machine: string | null, pageSize: number): Promise<void> {
    const pages = Math.ceil(b.length / pageSize);
    this.held += pages;
    if (this.held > MAX_PAGES) throw new LimitError(`diff keeps a digest per page: more than ${MAX_PAGES} pages`, 0);
    this.store?.block(b.name, b.length);
    this.blocks.set(b.name, { pageSize, pages, length: b.length, digests: new Uint32Array(pages * 2), carried: new Uint8Array((pages + 7) >>> 3) });
    if (!this.zeroDigest) {
      this.zeroDigest = new Uint32Array(2);
      digest(new DataView(new ArrayBuffer(pageSize)), 0, pageSize, this.zeroDigest, 0);
    }
  }

  write(block: string, offset: number, data: Uint8Array): Promise<void> | void {
    const d = this.blocks.get(block)!;
    for (let p = 0; p < data.byteLength; p += d.pageSize) this.digestPage(d, (offset + p) / d.pageSize, data, p);
    if (this.store) return this.store.write(block, offset, data);
  }

  /** A page read in place from the run's buffer (no view per page); with a store, as `write`. */
  pageAt(block: string, offset: number, run: Uint8Array, at: number): Promise<void> | void {
    const d = this.blocks.get(block)!;
    if (this.store) return this.write(block, offset, run.subarray(at, at + d.pageSize));
    this.digestPage(d, offset / d.pageSize, run, at);
  }

  /** Digest page `i` of a block from buf[at], and mark it carried. */
  private digestPage(d: BlockDigests, i: number, buf: Uint8Array, at: number): void {
    let dv = this.dv;
    if (dv === null || dv.buffer !== buf.buffer) dv = this.dv = new DataView(buf.buffer);
    digest(dv, buf.byteOffset + at, d.pageSize, d.digests, i * 2);
    d.carried[i >>> 3]! |= 1 << (i & 7);
  }

  zero(block: string, offset: number, count: number): void {
    const d = this.blocks.get(block)!;
    const first = offset / d.pageSize;
    const end = first + count;
    // The zero page's two digest words, doubled by native copies (BigUint64Array.fill with a BigInt took
    // 55 ms and much of diff's garbage collection for the 4 GiB guest's ~900 000 zero pages a side).
    const dg = d.digests;
    const s = first * 2;
    const len = count * 2;
    if (len > 0) {
      dg[s] = this.zeroDigest![0]!;
      dg[s + 1] = this.zeroDigest![1]!;
      for (let filled = 2; filled < len; ) {
        const k = Math.min(filled, len - filled);
        dg.copyWithin(s + filled, s, s + k);
        filled += k;
      }
    }
    // Carried bits: the bits before the first whole byte, the whole bytes, the bits after.
    let i = first;
    for (; i < end && (i & 7) !== 0; i++) d.carried[i >>> 3]! |= 1 << (i & 7);
    const whole = end & ~7;
    if (i < whole) {
      d.carried.fill(0xff, i >>> 3, whole >>> 3);
      i = whole;
    }
    for (; i < end; i++) d.carried[i >>> 3]! |= 1 << (i & 7);
  }

  async read(block: string, offset: number, length: number): Promise<Uint8Array> {
    if (!this.store) throw new NeedsPageStore(0);
    return this.store.read(block, offset, length);
  }
}

export interface RamBlockDiff {
  name: string;
  pageSize: number;
  /** Pages whose content differs (both carried). */
  differ: number;
  /** Pages carried only by A, only by B. */
  onlyA: number;
  onlyB: number;
  /** `[start, end)` byte ranges of the block where the two differ in any way, merged (the first `maxRanges`). */
  ranges: [number, number][];
  /** How many such ranges there are in all. */
  rangeCount: number;
}

/** Blocks present in both with the same size, compared page by page (others are reported by size). */
export function diffRam(a: PageDigests, b: PageDigests, maxRanges = Infinity): RamBlockDiff[] {
  const out: RamBlockDiff[] = [];
  for (const [name, x] of a.blocks) {
    const y = b.blocks.get(name);
    if (!y || y.length !== x.length || y.pageSize !== x.pageSize) continue;
    const res: RamBlockDiff = { name, pageSize: x.pageSize, differ: 0, onlyA: 0, onlyB: 0, ranges: [], rangeCount: 0 };
    let run = -1;
    for (let i = 0; i <= x.pages; i++) {
      let bad = false;
      if (i < x.pages) {
        const ca = (x.carried[i >>> 3]! >> (i & 7)) & 1;
        const cb = (y.carried[i >>> 3]! >> (i & 7)) & 1;
        if (ca && cb) bad = x.digests[i * 2] !== y.digests[i * 2] || x.digests[i * 2 + 1] !== y.digests[i * 2 + 1];
        else if (ca) res.onlyA++, (bad = true);
        else if (cb) res.onlyB++, (bad = true);
        if (bad && ca && cb) res.differ++;
      }
      if (bad && run < 0) run = i;
      if (!bad && run >= 0) {
        res.rangeCount++;
        if (res.ranges.length < maxRanges) res.ranges.push([run * x.pageSize, i * x.pageSize]);
        run = -1;
      }
    }
    if (res.differ || res.onlyA || res.onlyB) out.push(res);
  }
  return out;
}

export type { MemoryReport };
