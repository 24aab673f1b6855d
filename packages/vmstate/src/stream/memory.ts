/**
 * The guest's memory out of a QEMU stream, page by page as the stream gives
 * it: PAGE and mapped-ram pages as they are, ZERO pages as their fill byte,
 * compressed pages inflated, XBZRLE deltas applied to the page's earlier
 * content (read back from the output). Nothing is held but the current page
 * and one bit per page per block; where the pages go is the caller's
 * `MemoryTarget` (an ELF core, a raw image, one file per block).
 *
 * Guest-physical addresses of x86 `pc`/`q35` RAM come from the machine type
 * and RAM size, as hw/i386/pc_piix.c and pc_q35.c split RAM around the PCI
 * hole (`x86RamRanges`).
 */
import { LimitError, MalformedError, RefusedError, hex, type CodecOptions, type StreamReader } from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE, RAM_FLAG } from "./constants.js";
import { type Ev, parseStream, ParseState } from "./parse.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import type { RamBlock } from "./ram.js";
import { applyXbzrle } from "./xbzrle.js";

export interface MemoryTarget {
  /** A block is known (before any of its pages); `machine` is the configuration's machine type, if any. */
  block(b: RamBlock, machine: string | null, pageSize: number): Promise<void>;
  /**
   * Bytes at `offset` in `block` (whole pages), a view valid only during the call. A zero page that
   * was never written with data is not passed. A promise only when the target must wait (a flush):
   * most pages are gathered synchronously, without a promise each.
   */
  write(block: string, offset: number, data: Uint8Array): Promise<void> | void;
  /**
   * Optional: one whole page at `run[at, at + pageSize)`, a buffer valid only during the call. The run
   * walk calls it instead of `write` for PAGE records when present, so no view is made per page
   * (diff's digests read the page in place).
   */
  pageAt?(block: string, offset: number, run: Uint8Array, at: number): Promise<void> | void;
  /** The current content of one page (for XBZRLE). */
  read(block: string, offset: number, length: number): Promise<Uint8Array>;
  /** `count` zero pages from `offset` that were not passed to `write` (they read as zero already): for targets that count carried pages. */
  zero?(block: string, offset: number, count: number): void;
}

export interface MemoryReport {
  machine: string | null;
  pageSize: number;
  blocks: { name: string; length: number; pages: number; carried: number; missing: [number, number][] }[];
  /** Pages by how the stream last carried them. */
  pages: { data: number; zero: number; compressed: number; xbzrle: number; mapped: number };
}

/** 256 MiB of page bitmaps: 8 TiB of guest at 4 KiB pages. */
const MAX_BITMAPS = 256 << 20;
/** Ranges of missing pages listed per block in the report. */
const MAX_LISTED = 64;

/** A range of a RAM block at a guest-physical address. */
export interface GpaRange {
  gpa: number;
  offset: number;
  length: number;
}

const GiB = 0x4000_0000;
const FOUR_G = 0x1_0000_0000;

/**
 * Where x86 `pc` (i440fx) and `q35` put the `pc.ram` block. pc: RAM of at
 * least 3.5 GiB keeps 3 GiB below 4 GiB (machine types up to 1.7: 3.5 GiB),
 * less fits below whole; q35: RAM of at least 2.75 GiB keeps 2 GiB below
 * (up to 1.7: 2.75 GiB). The rest starts at 4 GiB. Null for other machines.
 */
export function x86RamRanges(machine: string, ramSize: number): GpaRange[] | null {
  const m = /^(?:pc-(?:(i440fx|q35)-)?(\d+)\.\d+|(pc|q35))$/.exec(machine);
  if (!m) return null;
  const q35 = m[1] === "q35" || m[3] === "q35";
  // Machine types up to 1.7 kept the older split (no 1 GiB alignment); there is no 1.8.
  const old = m[2] !== undefined && Number(m[2]) < 2;
  let low: number;
  if (q35) low = ramSize >= 0xb000_0000 ? (old ? 0xb000_0000 : 2 * GiB) : ramSize;
  else low = ramSize >= 0xe000_0000 ? (old ? 0xe000_0000 : 3 * GiB) : ramSize;
  const out: GpaRange[] = [{ gpa: 0, offset: 0, length: low }];
  if (ramSize > low) out.push({ gpa: FOUR_G, offset: low, length: ramSize - low });
  return out;
}

export interface MemoryOptions extends CodecOptions {
  /** zlib inflate for compressed pages (QEMU's `compress` capability); refused without it. */
  inflate?: (data: Uint8Array, size: number) => Uint8Array;
  /**
   * Sees every parse event before its pages go to the target, with the parse state and whether a
   * schema was borrowed (diff reads device state and RAM in one pass).
   */
  onEvent?: (ev: Ev, st: ParseState, borrowed: boolean) => void;
}

/** One bit per page carried, one per page last carried with data (a later zero page must then be written). */
interface BlockBits {
  bits: Uint8Array;
  data: Uint8Array;
  pages: number;
  length: number;
}

class Carried {
  readonly maps = new Map<string, BlockBits>();
  private held = 0;
  add(b: RamBlock, ps: number, at: number): void {
    if (this.maps.has(b.name)) return;
    const pages = Math.ceil(b.length / ps);
    const n = Math.ceil(pages / 8);
    this.held += 2 * n;
    if (this.held > MAX_BITMAPS) throw new LimitError(`RAM blocks of more than ${MAX_BITMAPS * 4} pages in all`, at);
    this.maps.set(b.name, { bits: new Uint8Array(n), data: new Uint8Array(n), pages, length: b.length });
  }
}

/**
 * The pages of one plain run, from its 8-byte words. A PAGE record is passed
 * as a view of the run; consecutive zero pages that never held data are one
 * `zero` call (no write: holes read as zero). `next` returns a promise only
 * where the target must flush; the walk resumes after it.
 */
class RunWalk {
  private p = 0;
  private zeroPage: Uint8Array | null = null;
  constructor(
    private readonly b: Uint8Array,
    private readonly ps: number,
    private readonly block: string,
    private readonly m: BlockBits,
    private readonly target: MemoryTarget,
    private readonly counts: MemoryReport["pages"],
  ) {}

  next(): Promise<void> | undefined {
    const { b, ps, block, m, target, counts } = this;
    const end = b.byteLength;
    const bits = m.bits;
    const data = m.data;
    // Page numbers, not byte addresses: they stay small integers (byte addresses above 2 GiB would
    // not, and the optimised loop would be thrown away when the first one came).
    const shift = 31 - Math.clz32(ps);
    // An integer shift (`2 ** n` is a double to V8: the optimised walk was thrown away as "not a Smi").
    const perHi = 1 << (32 - shift);
    let zStart = -1;
    let zNext = -1;
    let p = this.p;
    const inPlace = target.pageAt !== undefined;
    while (p < end) {
      const hi = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
      const lo = (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
      const i = hi * perHi + (lo >>> shift);
      const bit = 1 << (i & 7);
      const had = (data[i >>> 3]! & bit) !== 0;
      bits[i >>> 3]! |= bit;
      if (lo & RAM_FLAG.PAGE) {
        data[i >>> 3]! |= bit;
        counts.data++;
        if (zStart >= 0) target.zero?.(block, zStart * ps, zNext - zStart), (zStart = -1);
        const w = inPlace ? target.pageAt!(block, i * ps, b, p + 8) : target.write(block, i * ps, b.subarray(p + 8, p + 8 + ps));
        p += 8 + ps;
        if (w) return this.pause(p, w);
        continue;
      }
      const fill = b[p + 8]!;
      p += 9;
      counts.zero++;
      if (fill === 0 && !had) {
        // Extends the stretch of zero pages, or starts one.
        if (zStart >= 0 && i !== zNext) target.zero?.(block, zStart * ps, zNext - zStart), (zStart = -1);
        if (zStart < 0) zStart = i;
        zNext = i + 1;
        continue;
      }
      if (fill !== 0) data[i >>> 3]! |= bit;
      else data[i >>> 3]! &= ~bit;
      if (zStart >= 0) target.zero?.(block, zStart * ps, zNext - zStart), (zStart = -1);
      const w = target.write(block, i * ps, fill === 0 ? (this.zeroPage ??= new Uint8Array(ps)) : new Uint8Array(ps).fill(fill));
      if (w) return this.pause(p, w);
    }
    if (zStart >= 0) target.zero?.(block, zStart * ps, zNext - zStart);
    this.p = p;
    return undefined;
  }

  private pause(p: number, w: Promise<void>): Promise<void> {
    this.p = p;
    return w;
  }
}

/** Walk `input` and hand every page to `target`; returns what was carried and what was not. */
export async function exportMemory(input: StreamReader, version: string, opts: MemoryOptions, target: MemoryTarget): Promise<MemoryReport> {
  const v = parseVersion(version);
  const borrowed = (await loadBorrowed(opts)).vmdesc;
  const ps0 = pageSizeOpt(opts);
  const st = new ParseState(ps0 ?? DEFAULT_PAGE_SIZE);
  const carried = new Carried();
  const report: MemoryReport = { machine: null, pageSize: st.ram.pageSize, blocks: [], pages: { data: 0, zero: 0, compressed: 0, xbzrle: 0, mapped: 0 } };
  let zeroPage: Uint8Array | null = null;
  let current: string | null = null;

  const mark = (block: string, offset: number, withData: boolean): boolean => {
    const m = carried.maps.get(block)!;
    const i = offset / st.ram.pageSize;
    const bit = 1 << (i & 7);
    const hadData = (m.data[i >>> 3]! & bit) !== 0;
    m.bits[i >>> 3]! |= bit;
    if (withData) m.data[i >>> 3]! |= bit;
    else m.data[i >>> 3]! &= ~bit;
    return hadData;
  };

  const zeroOf = (fill: number, ps: number): Uint8Array => (fill === 0 ? (zeroPage ??= new Uint8Array(ps)) : new Uint8Array(ps).fill(fill));

  for await (const ev of parseStream(input, { version: v, pages: true, ramRuns: true, pageSize: ps0, borrowed }, st)) {
    opts.onEvent?.(ev, st, borrowed !== null);
    if (ev.t === "config") report.machine = ev.name;
    if (ev.t === "ramRun") {
      // A run of whole CONTINUE PAGE / ZERO records of the current block, already checked by the
      // parser (plainRun): walked by a small synchronous function (it optimises early and stays so),
      // which stops only where the target must flush.
      const block = st.ram.current!;
      current = block;
      const m = carried.maps.get(block);
      if (!m) throw new MalformedError(`RAM page for block "${block}" before any MEM_SIZE`, ev.offset);
      const walk = new RunWalk(ev.bytes, st.ram.pageSize, block, m, target, report.pages);
      for (let w = walk.next(); w; w = walk.next()) await w;
      continue;
    }
    if (ev.t !== "ram") continue;
    const rec = ev.rec;
    const ps = st.ram.pageSize;
    report.pageSize = ps;
    if (rec.blocks) {
      for (const b of rec.blocks) {
        carried.add(b, ps, rec.offset);
        await target.block(b, report.machine, ps);
      }
    }
    if (rec.mapped?.kind === "pages") {
      for (let p = 0; p < rec.data!.byteLength; p += ps) mark(rec.block!, rec.addr + p, true);
      report.pages.mapped += rec.data!.byteLength / ps;
      await target.write(rec.block!, rec.addr, rec.data!);
      continue;
    }
    if (rec.mapped) continue;
    const kind = rec.flags & ~RAM_FLAG.CONTINUE;
    if (kind !== RAM_FLAG.PAGE && kind !== RAM_FLAG.ZERO && kind !== RAM_FLAG.COMPRESS_PAGE && kind !== RAM_FLAG.XBZRLE) continue;
    if (rec.block !== null) current = rec.block;
    const block = current!;
    if (!carried.maps.has(block)) throw new MalformedError(`RAM page for block "${block}" before any MEM_SIZE`, rec.offset);
    switch (kind) {
      case RAM_FLAG.PAGE:
        mark(block, rec.addr, true);
        report.pages.data++;
        await target.write(block, rec.addr, rec.data!);
        break;
      case RAM_FLAG.ZERO: {
        report.pages.zero++;
        // A page of zeros needs no bytes unless it replaces earlier data: holes read as zero.
        const had = mark(block, rec.addr, rec.fill !== 0);
        if (rec.fill !== 0 || had) await target.write(block, rec.addr, zeroOf(rec.fill, ps));
        else target.zero?.(block, rec.addr, 1);
        break;
      }
      case RAM_FLAG.COMPRESS_PAGE: {
        if (!opts.inflate) throw new RefusedError("compressed RAM pages need zlib (run from the CLI)", rec.offset);
        let page: Uint8Array;
        try {
          page = opts.inflate(rec.data!, ps);
        } catch (e) {
          throw new MalformedError(`compressed page does not inflate: ${(e as Error).message}`, rec.offset);
        }
        if (page.byteLength !== ps) throw new MalformedError("compressed page does not inflate to one page", rec.offset, { expected: String(ps), found: String(page.byteLength) });
        mark(block, rec.addr, true);
        report.pages.compressed++;
        await target.write(block, rec.addr, page);
        break;
      }
      case RAM_FLAG.XBZRLE: {
        const page = (await target.read(block, rec.addr, ps)).slice();
        applyXbzrle(rec.data!, page, rec.offset);
        mark(block, rec.addr, true);
        report.pages.xbzrle++;
        await target.write(block, rec.addr, page);
        break;
      }
    }
  }
  for (const [name, m] of carried.maps) {
    let n = 0;
    const missing: [number, number][] = [];
    let runStart = -1;
    for (let i = 0; i <= m.pages; i++) {
      // Eight carried pages at once (a guest's pages are nearly all carried): only bytes with a gap are looked into.
      if ((i & 7) === 0 && runStart < 0 && i + 8 <= m.pages && m.bits[i >>> 3] === 0xff) {
        n += 8;
        i += 7;
        continue;
      }
      const on = i < m.pages && (m.bits[i >>> 3]! & (1 << (i & 7))) !== 0;
      if (on) n++;
      if (!on && i < m.pages && runStart < 0) runStart = i;
      if ((on || i === m.pages) && runStart >= 0) {
        if (missing.length < MAX_LISTED) missing.push([runStart * report.pageSize, i * report.pageSize]);
        runStart = -1;
      }
    }
    report.blocks.push({ name, length: m.length, pages: m.pages, carried: n, missing });
  }
  return report;
}

/** `[start, end)` ranges as hex, for messages. */
export const hexRange = (r: [number, number]): string => `${hex(r[0])}-${hex(r[1])}`;
