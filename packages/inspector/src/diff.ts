/**
 * `vmstream diff A B` in the worker: what differs between two QEMU saves —
 * the machine, RAM blocks, sections only in one, device state field by field
 * (`diffDevices` of @vmstream/vmstate, the comparison the CLI makes) and RAM
 * page by page (`PageDigests` filled by `exportMemory`, then `diffRam`). Each
 * side is read three times from its File (summary, analyze view, RAM), each
 * time streamed; only the two JSON views and 8 bytes a guest page are held.
 */
import { type FamilyCodec, RefusedError, type StreamReader, WireError } from "@vmstream/framing";
import {
  type DeviceDiff,
  type DeviceSide,
  PageDigests,
  type QemuSummary,
  type RamBlockDiff as RamPagesDiff,
  diffDevices,
  diffRam,
  exportMemory,
  formatDeviceDiff,
  hexRange,
} from "@vmstream/vmstate";

export interface DiffSideInfo {
  file: string;
  format: string;
  machine: string | null;
}

export interface RamBlockDiff {
  name: string;
  /** Length in A and in B; absent on the side without the block. */
  a?: number;
  b?: number;
}

/** The CLI's `--json` shape, plus the lines its text output prints. */
export interface DiffReport {
  a: DiffSideInfo;
  b: DiffSideInfo;
  equal: boolean;
  machine: { a: string | null; b: string | null } | null;
  /**
   * `pages`: blocks whose pages differ (ranges: the first MAX_RANGES). `note`: why RAM pages were not
   * compared (the browser has no synchronous zlib for compressed pages; XBZRLE deltas need page contents).
   */
  ram: { blocks: RamBlockDiff[]; pages: RamPagesDiff[]; note?: string };
  devices: DeviceDiff;
  lines: string[];
}

export interface DiffDeps {
  /** The codec and version of a file (detected or forced). */
  pick(file: File): Promise<{ codec: FamilyCodec; version: string }>;
  /** A fresh reader of the file; `label` names the pass on the progress line. */
  reader(file: File, label: string): StreamReader;
}

interface Side extends DeviceSide, DiffSideInfo {
  blocks: { name: string; length: number }[];
  /** Digests of the pages, or why there are none. */
  pages: PageDigests | string;
}

/** Ranges listed per block (the CLI's text shows the first 8, `--pages` all). */
const MAX_RANGES = 256;
const TEXT_RANGES = 8;

/** A fault in one input names the side and the file, like the CLI's `FILE: …` line. */
async function sideOf(which: "A" | "B", file: File, deps: DiffDeps): Promise<Side> {
  try {
    const { codec, version } = await deps.pick(file);
    if (codec.family !== "qemu") throw new RefusedError(`diff compares QEMU streams; this is ${codec.family}@${version}`, 0);
    const summary = (await pass(deps.reader(file, `reading ${which}`), (r) => codec.inspect(r, version, {}))).json as QemuSummary;
    if (summary.fault) throw new WireError("MALFORMED", summary.fault.message, summary.fault.offset);
    const analyze = (await pass(deps.reader(file, `reading ${which}'s device state`), (r) => codec.inspect(r, version, { view: "analyze" }))).json as Record<string, unknown>;
    let pages: PageDigests | string = new PageDigests();
    try {
      const target = pages;
      await pass(deps.reader(file, `reading ${which}'s RAM`), (r) => exportMemory(r, version, {}, target));
    } catch (e) {
      if (!(e instanceof WireError) || e.code !== "REFUSED") throw e;
      pages = `${which}: ${e.message}`;
    }
    return { file: file.name, format: summary.format, machine: summary.configuration?.name ?? null, summary, analyze, blocks: summary.ram.blocks, pages };
  } catch (e) {
    if (e instanceof WireError) throw new WireError(e.code, `${which} (${file.name}): ${e.message}`, e.offset);
    throw e;
  }
}

async function pass<T>(r: StreamReader, f: (r: StreamReader) => Promise<T>): Promise<T> {
  try {
    return await f(r);
  } finally {
    await r.close().catch(() => {});
  }
}

function ramBlocks(a: Side, b: Side): RamBlockDiff[] {
  const out: RamBlockDiff[] = [];
  const la = new Map(a.blocks.map((x) => [x.name, x.length]));
  const lb = new Map(b.blocks.map((x) => [x.name, x.length]));
  for (const x of a.blocks) if (lb.get(x.name) !== x.length) out.push({ name: x.name, a: x.length, ...(lb.has(x.name) ? { b: lb.get(x.name) } : {}) });
  for (const x of b.blocks) if (!la.has(x.name)) out.push({ name: x.name, b: x.length });
  return out;
}

const hex = (n: number | undefined): string => (n === undefined ? "absent" : `0x${n.toString(16)}`);

export async function diffFiles(fa: File, fb: File, deps: DiffDeps): Promise<DiffReport> {
  const a = await sideOf("A", fa, deps);
  const b = await sideOf("B", fb, deps);
  const devices = diffDevices(a, b);
  const blocks = ramBlocks(a, b);
  const note = typeof a.pages === "string" ? a.pages : typeof b.pages === "string" ? b.pages : undefined;
  const pages = typeof a.pages === "string" || typeof b.pages === "string" ? [] : diffRam(a.pages, b.pages, MAX_RANGES);
  const machine = a.machine !== b.machine ? { a: a.machine, b: b.machine } : null;
  const equal = !machine && !blocks.length && !pages.length && !devices.onlyA.length && !devices.onlyB.length && !devices.versions.length && !devices.fields.length;
  // The lines `vmstream diff` prints, in its order.
  const lines = [`A: ${a.file} (${a.format}, ${a.machine ?? "no machine type"})`, `B: ${b.file} (${b.format}, ${b.machine ?? "no machine type"})`];
  if (machine) lines.push(`machine type: ${machine.a ?? "none"} in A, ${machine.b ?? "none"} in B`);
  for (const x of blocks) lines.push(`RAM block ${x.name}: ${hex(x.a)} bytes in A, ${hex(x.b)} in B`);
  for (const p of pages) {
    const counts = [p.differ && `${p.differ} pages differ`, p.onlyA && `${p.onlyA} carried only in A`, p.onlyB && `${p.onlyB} carried only in B`].filter(Boolean).join(", ");
    const shown = p.ranges.slice(0, TEXT_RANGES).map(hexRange).join(" ");
    lines.push(`RAM block ${p.name}: ${counts}: ${shown}${p.rangeCount > TEXT_RANGES ? ` … and ${p.rangeCount - TEXT_RANGES} more ranges (--pages lists them)` : ""}`);
  }
  if (note) lines.push(`RAM pages not compared: ${note}`);
  lines.push(...formatDeviceDiff(devices));
  lines.push(
    equal
      ? `equal: ${devices.compared} sections compared`
      : `different: ${devices.compared} sections compared, ${devices.fields.length} field differences, ${devices.onlyA.length + devices.onlyB.length} sections only in one`,
  );
  const info = (s: Side): DiffSideInfo => ({ file: s.file, format: s.format, machine: s.machine });
  return { a: info(a), b: info(b), equal, machine, ram: { blocks, pages, ...(note ? { note } : {}) }, devices, lines };
}
