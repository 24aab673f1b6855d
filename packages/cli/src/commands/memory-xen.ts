/**
 * `vmstream memory` of a Xen save (libxc, libxl, xl, legacy): guest-physical
 * address = pfn × 4 KiB. A Xen stream names no memory map: the ranges that
 * exist are the runs of pfns it carries, so the ELF core has one PT_LOAD per
 * run of consecutive carried pfns (a PT_LOAD over a gap would invent zeros
 * for pages the stream never sent). Those runs are known only at the end of
 * a single pass, so the program headers follow the data (`e_phoff`), and the
 * data sits in 16 MiB slots given out as the stream first touches each
 * 16 MiB of guest: pages go straight to their final place, a page sent again
 * overwrites itself, and pfns far apart do not make a file as large as the
 * highest address. `--raw`: byte N of the file is guest-physical address N.
 */
import { RefusedError, type CodecOptions, type StreamReader, hex } from "@vmstream/framing";
import type { PfnTarget, XenMemoryReport } from "@vmstream/libxl";
import { EHDR_SIZE, type Load, elfHeader, programHeaders, xnumSection } from "../elf-core.js";
import type { PositionalFile } from "../positional-file.js";

const PAGE = 4096;
const SLOT_PAGES = 4096;
const SLOT_BYTES = SLOT_PAGES * PAGE;
/** A raw image past this would exceed what common file systems hold (ext4: 16 TiB). */
const RAW_LIMIT = 2 ** 44;

export const XEN_FAMILIES: ReadonlySet<string> = new Set(["libxc", "libxl", "xl", "legacy"]);

/** Pages by pfn into an ELF core (slots) or a raw image (pfn × 4 KiB). */
class XenTarget implements PfnTarget {
  private readonly slots = new Map<number, number>();
  loads: Load[] = [];
  constructor(
    private readonly file: PositionalFile,
    private readonly mode: "elf" | "raw",
  ) {}

  /** File offset of a pfn's page. */
  private where(pfn: number, at: number): number {
    if (this.mode === "raw") {
      if (pfn * PAGE >= RAW_LIMIT) throw new RefusedError(`pfn ${hex(pfn)} lies beyond 16 TiB: too far for a raw image; write the ELF core instead`, at);
      return pfn * PAGE;
    }
    const k = Math.floor(pfn / SLOT_PAGES);
    let s = this.slots.get(k);
    if (s === undefined) {
      s = this.slots.size;
      this.slots.set(k, s);
    }
    return PAGE + s * SLOT_BYTES + (pfn - k * SLOT_PAGES) * PAGE;
  }

  page(pfn: number, data: Uint8Array, at: number): Promise<void> | void {
    return this.file.write(this.where(pfn, at), data);
  }

  /** ELF: one PT_LOAD per run of carried pfns, split where two slots are not adjacent in the file. */
  async finish(report: XenMemoryReport): Promise<void> {
    if (this.mode === "raw") {
      const pages = Math.max(report.carried.highest + 1, report.p2mSize ?? 0);
      await this.file.finish(pages * PAGE);
      return;
    }
    const loads: Load[] = [];
    for (const [s, e] of report.carried.runs()) {
      for (let p = s; p < e; ) {
        const end = Math.min(e, (Math.floor(p / SLOT_PAGES) + 1) * SLOT_PAGES);
        const offset = this.where(p, 0);
        const last = loads[loads.length - 1];
        if (last && last.gpa + last.length === p * PAGE && last.offset + last.length === offset) last.length += (end - p) * PAGE;
        else loads.push({ gpa: p * PAGE, offset, length: (end - p) * PAGE });
        p = end;
      }
    }
    this.loads = loads;
    const phnum = loads.length + 1;
    const phoff = Math.ceil(Math.max(this.file.size, PAGE) / 8) * 8;
    const ph = programHeaders(loads, phoff);
    const shoff = phoff + ph.byteLength;
    await this.file.write(phoff, ph);
    if (phnum >= 0xffff) await this.file.write(shoff, xnumSection(phnum));
    await this.file.write(0, elfHeader(phnum, phoff, shoff));
    await this.file.finish(Math.max(this.file.size, EHDR_SIZE));
  }
}

/** Walk a Xen save with its family's walker into an ELF core or raw image; the file is finished, not renamed. */
export async function exportXen(
  reader: StreamReader,
  family: string,
  version: string,
  opts: CodecOptions,
  file: PositionalFile,
  mode: "elf" | "raw",
): Promise<{ report: XenMemoryReport; loads: Load[] }> {
  const target = new XenTarget(file, mode);
  const report =
    family === "legacy"
      ? await (await import("@vmstream/legacy")).legacyMemory(reader, version, opts, target)
      : await (await import("@vmstream/libxl")).xenMemory(reader, family as "libxc" | "libxl" | "xl", version, target);
  await target.finish(report);
  return { report, loads: target.loads };
}

const MAX_LISTED = 64;
const pfnRange = ([s, e]: [number, number]): string => `${hex(s * PAGE)}-${hex(e * PAGE)}`;

function take<T>(it: Iterable<T>, n: number): { items: T[]; count: number } {
  const items: T[] = [];
  let count = 0;
  for (const x of it) {
    if (items.length < n) items.push(x);
    count++;
  }
  return { items, count };
}

/** The report as JSON: what was carried, what was not, by guest-physical byte ranges. */
export function xenReportJson(out: string, mode: string, r: XenMemoryReport, loads: Load[]): Record<string, unknown> {
  const limit = Math.max(r.carried.highest + 1, r.p2mSize ?? 0);
  const runs = take(r.carried.runs(), MAX_LISTED);
  const gaps = take(r.carried.gaps(limit), MAX_LISTED);
  let holes = 0;
  for (const [s, e] of r.carried.gaps(limit)) holes += e - s;
  return {
    output: out,
    mode,
    format: r.format,
    guest: r.guest,
    pageSize: r.pageSize,
    p2mSize: r.p2mSize,
    pages: r.pages,
    carried: { pages: r.carried.size, runs: runs.count, ranges: runs.items.map(([s, e]) => [s * PAGE, e * PAGE]) },
    notCarried: { below: limit * PAGE, pages: holes, ranges: gaps.items.map(([s, e]) => [s * PAGE, e * PAGE]), rangeCount: gaps.count },
    ...(mode === "elf" ? { loads: loads.length } : {}),
  };
}

export function renderXen(out: string, mode: string, r: XenMemoryReport, loads: Load[]): string {
  const j = xenReportJson(out, mode, r, loads) as { carried: { runs: number }; notCarried: { below: number; pages: number; rangeCount: number } };
  const limit = j.notCarried.below / PAGE;
  const L: string[] = [];
  const what = mode === "elf" ? `ELF core, ${loads.length} PT_LOAD (one per run of consecutive pfns carried)` : "raw image by guest-physical address (pfn × 4096)";
  L.push(`${out}: ${what}; ${r.format}, ${r.guest} guest; page size ${r.pageSize}`);
  const nd = Object.entries(r.pages.noData).map(([t, n]) => `${n} ${t}`);
  L.push(`pages: ${r.pages.data} with data (${r.pages.resent} of them a pfn sent again: its last content kept)${nd.length ? `, ${nd.join(", ")} without data (not carried)` : ""}`);
  const runs = take(r.carried.runs(), 8);
  L.push(`  carried: ${r.carried.size} pages in ${j.carried.runs} range${j.carried.runs === 1 ? "" : "s"}: ${runs.items.map(pfnRange).join(", ")}${runs.count > 8 ? ", …" : ""}`);
  const gaps = take(r.carried.gaps(limit), 8);
  const below = r.p2mSize !== null ? `of the ${r.p2mSize} pages the stream declares` : `below the highest pfn carried`;
  L.push(`  not carried (holes): ${j.notCarried.pages} pages ${below}${gaps.count ? `: ${gaps.items.map(pfnRange).join(", ")}${gaps.count > 8 ? ", …" : ""}` : ""}`);
  return `${L.join("\n")}\n`;
}
