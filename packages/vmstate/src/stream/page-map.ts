/**
 * Which pages of each RAM block a QEMU stream carries, and how: runs of
 * consecutive pages of one block sent the same way, reported in stream order
 * as they are read. Nothing per page is kept here (a page sent twice, as
 * XBZRLE iterations do, shows up in two runs), so memory stays bounded by one
 * pending run whatever the guest size; what to aggregate is the caller's call.
 */
import type { CodecOptions, StreamReader } from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE, RAM_FLAG } from "./constants.js";
import { parseStream, ParseState } from "./parse.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import type { RamRecord } from "./ram.js";

/** How a page travels: a PAGE record, a ZERO record, COMPRESS_PAGE, XBZRLE, or a mapped-ram file's page area. */
export type PageKind = "data" | "zero" | "compressed" | "xbzrle" | "mapped";

export interface PageRun {
  block: string;
  /** Page index inside the block (byte offset ÷ page size). */
  firstPage: number;
  count: number;
  kind: PageKind;
}

export interface PageRunHandlers {
  /** A block the stream lists (MEM_SIZE), before any run of it; `pageSize` is final by then. */
  block?(name: string, length: number, pageSize: number): void;
  run(run: PageRun): void;
}

const KIND: ReadonlyMap<number, PageKind> = new Map([
  [RAM_FLAG.PAGE, "data"],
  [RAM_FLAG.ZERO, "zero"],
  [RAM_FLAG.COMPRESS_PAGE, "compressed"],
  [RAM_FLAG.XBZRLE, "xbzrle"],
]);

/**
 * Read a QEMU stream and report its page runs. Throws the stream's first
 * fault as a WireError after reporting every run read before it.
 */
export async function walkPageRuns(input: StreamReader, version: string, opts: CodecOptions, on: PageRunHandlers): Promise<{ pageSize: number }> {
  const v = parseVersion(version);
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  const b = await loadBorrowed(opts);
  let cur: PageRun | null = null;
  const page = (block: string, index: number, kind: PageKind): void => {
    if (cur && cur.kind === kind && cur.block === block && cur.firstPage + cur.count === index) {
      cur.count++;
      return;
    }
    if (cur) on.run(cur);
    cur = { block, firstPage: index, count: 1, kind };
  };
  const flush = (): void => {
    if (cur) on.run(cur);
    cur = null;
  };
  try {
    for await (const ev of parseStream(input, { version: v, pages: false, ramRuns: true, pageSize: ps, borrowed: b.vmdesc }, st)) {
      if (ev.t === "ramRun") {
        // Only CONTINUE PAGE and CONTINUE ZERO records of the current block (see plainRun).
        const bytes = ev.bytes;
        const size = st.ram.pageSize;
        const block = st.ram.current!;
        let p = 0;
        while (p + 8 <= bytes.byteLength) {
          const hi = ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0;
          const lo = ((bytes[p + 4]! << 24) | (bytes[p + 5]! << 16) | (bytes[p + 6]! << 8) | bytes[p + 7]!) >>> 0;
          const flags = lo % size;
          const index = (hi * 0x1_0000_0000 + lo - flags) / size;
          if (flags & RAM_FLAG.PAGE) {
            page(block, index, "data");
            p += 8 + size;
          } else {
            page(block, index, "zero");
            p += 9;
          }
        }
      } else if (ev.t === "ram") {
        record(ev.rec, st, on, page, flush);
      }
    }
  } finally {
    flush();
  }
  return { pageSize: st.ram.pageSize };
}

function record(rec: RamRecord, st: ParseState, on: PageRunHandlers, page: (block: string, index: number, kind: PageKind) => void, flush: () => void): void {
  const size = st.ram.pageSize;
  if (rec.blocks) {
    flush();
    for (const bl of rec.blocks) on.block?.(bl.name, bl.length, size);
    // mapped-ram: each block comes with its bitmap of the pages the file holds.
    if (rec.mapped?.kind === "block" && rec.mapped.bitmap && rec.blocks.length === 1) mappedRuns(rec.blocks[0]!.name, rec.blocks[0]!.length / size, rec.mapped.bitmap, on);
    return;
  }
  const kind = KIND.get(rec.flags & ~RAM_FLAG.CONTINUE);
  if (kind === undefined) return; // EOS, HOOK, MULTIFD_FLUSH and mapped-ram page pieces carry no new page
  page(rec.block ?? st.ram.current!, rec.addr / size, kind);
}

/** A mapped-ram block's bitmap (bit i of byte i÷8 set: page i is in the file) as runs of present pages. */
function mappedRuns(block: string, pages: number, bitmap: Uint8Array, on: PageRunHandlers): void {
  const has = (i: number): boolean => (bitmap[i >>> 3]! & (1 << (i & 7))) !== 0;
  let i = 0;
  while (i < pages) {
    if (bitmap[i >>> 3] === 0 && (i & 7) === 0) {
      i += 8;
      continue;
    }
    if (!has(i)) {
      i++;
      continue;
    }
    let n = 1;
    while (i + n < pages && has(i + n)) n++;
    on.run({ block, firstPage: i, count: n, kind: "mapped" });
    i += n;
  }
}
