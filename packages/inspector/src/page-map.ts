/**
 * The page map of one QEMU stream, folded in the worker from the page runs
 * `walkPageRuns` reports: per RAM block, a strip of at most STRIP buckets
 * (pages of each kind per bucket), the ranges in stream order, and the ranges
 * never sent. Memory is bounded whatever the guest size: buckets are fixed,
 * range lists are capped, and which pages were sent is kept as a sparse
 * bitmap (one bit a page, allocated only where runs land, capped in total).
 */
import type { PageKind, PageRun } from "@vmstream/vmstate";

export const KINDS: readonly PageKind[] = ["data", "zero", "compressed", "xbzrle", "mapped"];
/** Buckets per block strip: enough for a canvas as wide as a screen. */
export const STRIP = 1024;
/** Ranges listed per block (in stream order, and never-sent ones). */
export const MAX_RANGES = 256;
/** Pages per chunk of the page table (one byte a page: which kinds carried it). */
const CHUNK_PAGES = 32768;
/** Chunks in all (64 MiB, 256 GiB of guest at 4 KiB pages): past this, ranges are not tracked. */
const MAX_CHUNKS = 2048;

export interface Range {
  firstPage: number;
  count: number;
}

export interface BlockMap {
  name: string;
  length: number;
  pages: number;
  /** Pages per strip bucket. */
  per: number;
  /** counts[bucket × KINDS.length + kind]: pages sent that way in the bucket (a page sent twice counts twice). */
  counts: number[];
  /** Pages of each bucket never sent; null when not tracked. */
  unsent: number[] | null;
  /** Pages sent per kind (a page sent twice counts twice). */
  totals: Record<PageKind, number>;
  /** Distinct pages sent; null when not tracked. */
  distinct: number | null;
  /**
   * The block by address: consecutive pages carried the same ways (`kinds`
   * empty: never sent); `more` counts the ranges past MAX_RANGES, not listed.
   * null when not tracked.
   */
  ranges: (Range & { kinds: PageKind[] })[] | null;
  more: number;
}

export interface PageMap {
  pageSize: number;
  blocks: BlockMap[];
  runs: number;
  notes: string[];
}

interface Acc {
  map: BlockMap;
  /** Per page, a bit per kind that carried it (bit i: KINDS[i]). */
  chunks: Map<number, Uint8Array>;
}

export class PageMapBuilder {
  private readonly blocks = new Map<string, Acc>();
  private chunkCount = 0;
  private untracked = false;
  pageSize = 4096;
  runs = 0;

  block(name: string, length: number, pageSize: number): void {
    this.pageSize = pageSize;
    if (this.blocks.has(name)) return;
    const pages = Math.ceil(length / pageSize);
    const per = Math.max(1, Math.ceil(pages / STRIP));
    const buckets = Math.ceil(pages / per);
    const totals = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<PageKind, number>;
    const map: BlockMap = { name, length, pages, per, counts: new Array<number>(buckets * KINDS.length).fill(0), unsent: null, totals, distinct: null, ranges: null, more: 0 };
    this.blocks.set(name, { map, chunks: new Map() });
  }

  run(r: PageRun): void {
    this.runs++;
    let acc = this.blocks.get(r.block);
    if (!acc) {
      // Runs of a block no MEM_SIZE listed (the reader refuses those; be safe anyway).
      this.block(r.block, 0, this.pageSize);
      acc = this.blocks.get(r.block)!;
    }
    const m = acc.map;
    const k = KINDS.indexOf(r.kind);
    m.totals[r.kind] += r.count;
    const end = Math.min(r.firstPage + r.count, m.pages);
    for (let p = r.firstPage; p < end; ) {
      const b = Math.floor(p / m.per);
      const stop = Math.min(end, (b + 1) * m.per);
      m.counts[b * KINDS.length + k]! += stop - p;
      p = stop;
    }
    if (!this.untracked) this.mark(acc, r.firstPage, end, 1 << k);
  }

  private mark(acc: Acc, from: number, to: number, bit: number): void {
    for (let p = from; p < to; ) {
      const c = Math.floor(p / CHUNK_PAGES);
      let kinds = acc.chunks.get(c);
      if (!kinds) {
        if (this.chunkCount >= MAX_CHUNKS) {
          this.untracked = true;
          return;
        }
        kinds = new Uint8Array(CHUNK_PAGES);
        acc.chunks.set(c, kinds);
        this.chunkCount++;
      }
      const stop = Math.min(to, (c + 1) * CHUNK_PAGES);
      for (let i = p - c * CHUNK_PAGES, e = stop - c * CHUNK_PAGES; i < e; i++) kinds[i]! |= bit;
      p = stop;
    }
  }

  /** The map, with the block ranges and the pages never sent read from the page table. */
  finish(): PageMap {
    const notes: string[] = [];
    if (this.untracked) notes.push("too many pages to keep a table of: pages never sent and ranges by address are not shown, only the strips");
    const out: BlockMap[] = [];
    for (const acc of this.blocks.values()) {
      if (!this.untracked) this.ranges(acc);
      out.push(acc.map);
    }
    return { pageSize: this.pageSize, blocks: out, runs: this.runs, notes };
  }

  private ranges(acc: Acc): void {
    const m = acc.map;
    const unsent = new Array<number>(m.counts.length / KINDS.length).fill(0);
    const ranges: (Range & { kinds: PageKind[] })[] = [];
    let more = 0;
    let sent = 0;
    let open: { firstPage: number; count: number; mask: number } | null = null;
    const close = (): void => {
      if (!open) return;
      if (ranges.length < MAX_RANGES) ranges.push({ firstPage: open.firstPage, count: open.count, kinds: KINDS.filter((_, i) => open!.mask & (1 << i)) });
      else more++;
      open = null;
    };
    const add = (p: number, n: number, mask: number): void => {
      if (mask) sent += n;
      else
        for (let q = p, end = p + n; q < end; ) {
          const b = Math.floor(q / m.per);
          const stop = Math.min(end, (b + 1) * m.per);
          unsent[b]! += stop - q;
          q = stop;
        }
      if (open && open.mask === mask) open.count += n;
      else {
        close();
        open = { firstPage: p, count: n, mask };
      }
    };
    // Only the chunks runs landed in are walked: the gaps between them are never-sent ranges as a whole.
    let at = 0;
    for (const c of [...acc.chunks.keys()].sort((x, y) => x - y)) {
      const kinds = acc.chunks.get(c)!;
      const first = c * CHUNK_PAGES;
      const end = Math.min(m.pages, first + CHUNK_PAGES);
      if (first > at) add(at, first - at, 0);
      at = end;
      for (let p = first; p < end; ) {
        const mask = kinds[p - first]!;
        let q = p + 1;
        while (q < end && kinds[q - first] === mask) q++;
        add(p, q - p, mask);
        p = q;
      }
    }
    if (m.pages > at) add(at, m.pages - at, 0);
    close();
    m.distinct = sent;
    m.unsent = unsent;
    m.ranges = ranges;
    m.more = more;
  }
}
