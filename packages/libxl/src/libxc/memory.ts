/**
 * The guest's memory out of a Xen save: every data-bearing PAGE_DATA entry
 * handed to a `PfnTarget` at its pfn, in stream order, as libxc's restore
 * (process_page_data) would place it — a pfn sent again overwrites its
 * earlier content (live migration's later iterations, checkpoints). Entries
 * of type XTAB, BROKEN and XALLOC carry no bytes: they are counted, never
 * turned into pages. The records are read by the one libxc reader (and
 * libxl's walker around it): nothing here parses a record header.
 *
 * What was carried is kept as a sparse bitmap of pfns (`PfnSet`), one bit a
 * page in chunks of 4096 pfns, so a guest of any size (or a hostile stream
 * naming pfns far apart) costs memory in proportion to the pages it carries.
 */
import { LimitError, type StreamReader } from "@vmstream/framing";
import { LIBXC_PAGE_TYPES } from "@vmstream/wire-spec";
import { walkLibxl, readLibxlHeader } from "../libxl/reader.js";
import { readXlHeader } from "../xl/header.js";
import { walkLibxc } from "./codec.js";
import { LIBXC_REC } from "./model.js";
import type { LibxcRecordInfo, LibxcReader } from "./reader.js";

/** Xen x86 pages: 4 KiB (page_shift 12 is all the reader accepts). */
export const XEN_PAGE_SIZE = 4096;

/** Where a Xen save's pages go: one page at a time, `data` valid only during the call; `at` is its stream offset. */
export interface PfnTarget {
  page(pfn: number, data: Uint8Array, at: number): Promise<void> | void;
}

const CHUNK_SHIFT = 12;
const CHUNK_PAGES = 1 << CHUNK_SHIFT;
/** Bitmap bytes held in all: 64 MiB is 2 TiB of densely carried guest; scattered pfns meet it sooner. */
const MAX_BITMAP_BYTES = 64 << 20;

/** A set of pfns: a bitmap per touched chunk of 4096 pfns. */
export class PfnSet {
  private readonly chunks = new Map<number, Uint8Array>();
  /** Pfns in the set. */
  size = 0;
  /** The highest pfn ever added (-1: none). */
  highest = -1;

  /** Add `pfn`; false when it was there already. `at` names the stream offset for the limit's error. */
  add(pfn: number, at: number): boolean {
    const k = Math.floor(pfn / CHUNK_PAGES);
    let c = this.chunks.get(k);
    if (!c) {
      if ((this.chunks.size + 1) * (CHUNK_PAGES / 8) > MAX_BITMAP_BYTES) {
        throw new LimitError(`pages spread over more than ${MAX_BITMAP_BYTES / (CHUNK_PAGES / 8)} chunks of ${CHUNK_PAGES} pfns`, at);
      }
      c = new Uint8Array(CHUNK_PAGES / 8);
      this.chunks.set(k, c);
    }
    const i = pfn - k * CHUNK_PAGES;
    const bit = 1 << (i & 7);
    if (c[i >>> 3]! & bit) return false;
    c[i >>> 3]! |= bit;
    this.size++;
    if (pfn > this.highest) this.highest = pfn;
    return true;
  }

  has(pfn: number): boolean {
    const c = this.chunks.get(Math.floor(pfn / CHUNK_PAGES));
    if (!c) return false;
    const i = pfn % CHUNK_PAGES;
    return (c[i >>> 3]! & (1 << (i & 7))) !== 0;
  }

  /** The chunks touched, ascending (a chunk is `CHUNK_PAGES` pfns from `index * CHUNK_PAGES`). */
  chunkIndices(): number[] {
    return [...this.chunks.keys()].sort((a, b) => a - b);
  }

  /** Runs `[first, end)` of consecutive pfns in the set, ascending. */
  *runs(): Generator<[number, number]> {
    let start = -1;
    let prev = -2;
    for (const k of this.chunkIndices()) {
      const c = this.chunks.get(k)!;
      const base = k * CHUNK_PAGES;
      for (let j = 0; j < c.length; j++) {
        const byte = c[j]!;
        if (byte === 0) continue;
        for (let b = 0; b < 8; b++) {
          if (!(byte & (1 << b))) continue;
          const pfn = base + j * 8 + b;
          if (pfn !== prev + 1) {
            if (start >= 0) yield [start, prev + 1];
            start = pfn;
          }
          prev = pfn;
        }
      }
    }
    if (start >= 0) yield [start, prev + 1];
  }

  /** Runs `[first, end)` of pfns below `limit` that are not in the set, ascending. */
  *gaps(limit: number): Generator<[number, number]> {
    let next = 0;
    for (const [s, e] of this.runs()) {
      if (s >= limit) break;
      if (s > next) yield [next, s];
      next = e;
    }
    if (next < limit) yield [next, limit];
  }
}

/** What a Xen save carried. */
export interface XenMemoryReport {
  /** `libxc@3`, `legacy@64`, …: the format read. */
  format: string;
  guest: "hvm" | "pv";
  pageSize: number;
  /** The pfns the stream gave bytes for. */
  carried: PfnSet;
  /**
   * Pages the guest has, when the stream says (legacy p2m_size; a PV guest's
   * last p2m pfn + 1); otherwise null and the report's holes stop at the
   * highest pfn carried.
   */
  p2mSize: number | null;
  /** Page entries read: with data (a pfn sent twice counts twice), and without data by type. */
  pages: { data: number; resent: number; noData: Record<string, number> };
}

export function newXenReport(format: string, guest: "hvm" | "pv"): XenMemoryReport {
  return { format, guest, pageSize: XEN_PAGE_SIZE, carried: new PfnSet(), p2mSize: null, pages: { data: 0, resent: 0, noData: {} } };
}

/** Hand one page to the target and note it. */
export async function carryPage(report: XenMemoryReport, target: PfnTarget, pfn: number, data: Uint8Array, at: number): Promise<void> {
  report.pages.data++;
  if (!report.carried.add(pfn, at)) report.pages.resent++;
  const w = target.page(pfn, data, at);
  if (w) await w;
}

export function noDataPage(report: XenMemoryReport, type: string): void {
  report.pages.noData[type] = (report.pages.noData[type] ?? 0) + 1;
}

const HAS_DATA = new Map(LIBXC_PAGE_TYPES.filter((t) => t !== null).map((t) => [t!.name, t!.data]));

/** One libxc record: PAGE_DATA's pages go to the target, a PV guest's p2m bounds the report. */
async function visitRecord(info: LibxcRecordInfo, x: LibxcReader, report: XenMemoryReport, target: PfnTarget): Promise<void> {
  const rec = info.record;
  if (rec?.type === "X86_PV_P2M_FRAMES") report.p2mSize = Math.max(report.p2mSize ?? 0, rec.end_pfn + 1);
  if (info.code !== LIBXC_REC.PAGE_DATA || rec?.type !== "PAGE_DATA") return;
  // The page contents follow the pfn array, one page per data-bearing entry, in entry order.
  let at = x.pendingPages.offset;
  const pages = x.eachPage();
  for (const e of rec.pages) {
    if (!HAS_DATA.get(e.type)) {
      noDataPage(report, e.type);
      continue;
    }
    const p = await pages.next();
    await carryPage(report, target, e.pfn, p.value as Uint8Array, at);
    at += XEN_PAGE_SIZE;
  }
}

/**
 * Walk a libxc, libxl or xl save (`family` as detected) and give every page
 * to `target`. The stream is checked as `verify` checks it; the first fault
 * throws a WireError with its offset.
 */
export async function xenMemory(r: StreamReader, family: "libxc" | "libxl" | "xl", version: string, target: PfnTarget): Promise<XenMemoryReport> {
  const report = newXenReport(`${family}@${version}`, "hvm");
  if (family === "libxc") {
    await walkLibxc(
      r,
      version,
      "stream",
      (info, x) => visitRecord(info, x, report, target),
      (h) => {
        report.guest = h.domainType === 1 ? "pv" : "hvm";
      },
    );
    return report;
  }
  const notes: string[] = [];
  if (family === "xl") await readXlHeader(r, notes);
  await readLibxlHeader(r, notes);
  for await (const it of walkLibxl(r, "stream", notes)) {
    if (it.layer === "libxc-header") report.guest = it.header.domainType === 1 ? "pv" : "hvm";
    else if (it.layer === "libxc") await visitRecord(it.info, it.reader, report, target);
  }
  return report;
}
