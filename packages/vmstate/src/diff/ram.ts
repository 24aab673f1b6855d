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

const scratch = new Int32Array(16384);
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * 64 bits from four 32-bit lanes, each over every fourth word of the page:
 * a multiply and a shift per word, as independent chains (one chain of two
 * multiplies per word ran at half the speed: each step waited on the last).
 * Each step is a bijection of its lane for a fixed word and of the word for a
 * fixed lane, so a page that differs in one word always changes its lane;
 * the lanes are mixed into both output words.
 */
function digest(page: Uint8Array, out: Uint32Array, at: number): void {
  let words: Int32Array;
  const n = page.byteLength >>> 2;
  if ((page.byteOffset & 3) === 0) words = new Int32Array(page.buffer, page.byteOffset, n);
  else {
    // A page after a 9-byte ZERO record sits at an odd offset: copy it once into aligned words.
    if (n <= scratch.length) {
      scratchBytes.set(page.subarray(0, n * 4));
      words = scratch;
    } else {
      words = new Int32Array(n);
      new Uint8Array(words.buffer).set(page.subarray(0, n * 4));
    }
  }
  let a = 0x811c9dc5 | 0;
  let b = 0x9747b28c | 0;
  let c = 0x1b873593;
  let d = 0xcc9e2d51 | 0;
  const m = n & ~3;
  for (let i = 0; i < m; i += 4) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    b = Math.imul(b ^ words[i + 1]!, 0x85ebca77 | 0);
    c = Math.imul(c ^ words[i + 2]!, 0xc2b2ae3d | 0);
    d = Math.imul(d ^ words[i + 3]!, 0x27d4eb2f);
    a ^= a >>> 15;
    b ^= b >>> 13;
    c ^= c >>> 16;
    d ^= d >>> 15;
  }
  // Pages are whole words in fours (page sizes are powers of two ≥ 16); a short tail goes to lane a.
  for (let i = m; i < n; i++) {
    a = Math.imul(a ^ words[i]!, 0x01000193);
    a ^= a >>> 15;
  }
  out[at] = (Math.imul(a ^ (c >>> 7), 0x85ebca6b | 0) ^ b) >>> 0;
  out[at + 1] = (Math.imul(c ^ (a >>> 9), 0xc2b2ae35 | 0) ^ d ^ (b >>> 11)) >>> 0;
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
  constructor(private readonly store: PageStore | null = null) {}

  async block(b: RamBlock, _machine: string | null, pageSize: number): Promise<void> {
    const pages = Math.ceil(b.length / pageSize);
    this.held += pages;
    if (this.held > MAX_PAGES) throw new LimitError(`diff keeps a digest per page: more than ${MAX_PAGES} pages`, 0);
    this.store?.block(b.name, b.length);
    this.blocks.set(b.name, { pageSize, pages, length: b.length, digests: new Uint32Array(pages * 2), carried: new Uint8Array((pages + 7) >>> 3) });
    if (!this.zeroDigest) {
      this.zeroDigest = new Uint32Array(2);
      digest(new Uint8Array(pageSize), this.zeroDigest, 0);
    }
  }

  write(block: string, offset: number, data: Uint8Array): Promise<void> | void {
    const d = this.blocks.get(block)!;
    for (let p = 0; p < data.byteLength; p += d.pageSize) {
      const i = (offset + p) / d.pageSize;
      digest(data.subarray(p, p + d.pageSize), d.digests, i * 2);
      d.carried[i >>> 3]! |= 1 << (i & 7);
    }
    if (this.store) return this.store.write(block, offset, data);
  }

  zero(block: string, offset: number, count: number): void {
    const d = this.blocks.get(block)!;
    const z0 = this.zeroDigest![0]!;
    const z1 = this.zeroDigest![1]!;
    const first = offset / d.pageSize;
    for (let i = first; i < first + count; i++) {
      d.digests[i * 2] = z0;
      d.digests[i * 2 + 1] = z1;
      d.carried[i >>> 3]! |= 1 << (i & 7);
    }
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
