import { hexRange } from "../stream/memory.js";
import { type DeviceDiff, type FieldDiff, diffDevices } from "./devices.js";
import { type RamBlockDiff, diffRam } from "./ram.js";
import type { DiffSide } from "./side.js";

/** A value as analyze prints it, cut to one readable line. */
const show = (x: unknown): string => {
  const s = typeof x === "string" ? x : JSON.stringify(x);
  return s.length > 72 ? `${s.slice(0, 60)}… (${s.length} chars)` : s;
};

/** One line per finding, as `vmstream diff` prints them. */
export function formatFieldDiff(f: FieldDiff): string {
  const where = `${f.section} ${f.instance}: ${f.path || "(section)"}`;
  switch (f.reason) {
    case "value differs":
      return `${where}: ${show(f.a)} → ${show(f.b)}`;
    case "only in A":
      return `${where}: only in A (= ${show(f.a)}); B's description has no such field`;
    case "only in B":
      return `${where}: only in B (= ${show(f.b)}); A's description has no such field`;
    case "renamed":
      return `${where}: renamed to ${f.renamedTo} in B (same position and shape${show(f.a) === show(f.b) ? ", same value" : ""})`;
    case "array length differs":
      return `${where}: ${f.a} elements in A, ${f.b} in B`;
    case "described differently":
      return `${where}: the streams' descriptions differ (A: ${f.a}, B: ${f.b}); comparing the first element`;
  }
}

export function formatDeviceDiff(d: DeviceDiff): string[] {
  const out: string[] = [];
  for (const s of d.onlyA) out.push(`section ${s.section} ${s.instance}: only in A (version ${s.version})`);
  for (const s of d.onlyB) out.push(`section ${s.section} ${s.instance}: only in B (version ${s.version})`);
  for (const v of d.versions) out.push(`section ${v.section} ${v.instance}: version ${v.a} in A, ${v.b} in B`);
  for (const f of d.fields) out.push(formatFieldDiff(f));
  return out;
}

/** A RAM block whose size differs, or that only one side has. */
export interface RamSizeDiff {
  name: string;
  /** Length in A and in B; absent on the side without the block. */
  a?: number;
  b?: number;
}

export interface DiffSideInfo {
  file: string;
  format: string;
  machine: string | null;
}

/** What `vmstream diff --json` prints (and the inspector shows). */
export interface DiffReport {
  a: DiffSideInfo;
  b: DiffSideInfo;
  equal: boolean;
  machine: { a: string | null; b: string | null } | null;
  /** `note`: why RAM pages were not compared (a side has no digests). */
  ram: { blocks: RamSizeDiff[]; pages: RamBlockDiff[]; note?: string };
  devices: DeviceDiff;
}

function ramSizes(a: DiffSide, b: DiffSide): RamSizeDiff[] {
  const out: RamSizeDiff[] = [];
  const la = new Map(a.blocks.map((x) => [x.name, x.length]));
  const lb = new Map(b.blocks.map((x) => [x.name, x.length]));
  for (const x of a.blocks) if (lb.get(x.name) !== x.length) out.push({ name: x.name, a: x.length, ...(lb.has(x.name) ? { b: lb.get(x.name) } : {}) });
  for (const x of b.blocks) if (!la.has(x.name)) out.push({ name: x.name, b: x.length });
  return out;
}

/** Compare two sides: machine, RAM blocks and pages (the first `maxRanges` ranges per block), device state. */
export function diffSides(a: DiffSide, b: DiffSide, maxRanges = Infinity): DiffReport {
  const devices = diffDevices(a, b);
  const blocks = ramSizes(a, b);
  const note = typeof a.pages === "string" ? a.pages : typeof b.pages === "string" ? b.pages : undefined;
  const pages = typeof a.pages === "string" || typeof b.pages === "string" ? [] : diffRam(a.pages, b.pages, maxRanges);
  const machine = a.machine !== b.machine ? { a: a.machine, b: b.machine } : null;
  const equal = !machine && !blocks.length && !pages.length && !devices.onlyA.length && !devices.onlyB.length && !devices.versions.length && !devices.fields.length;
  const info = (s: DiffSide): DiffSideInfo => ({ file: s.file, format: s.format, machine: s.machine });
  return { a: info(a), b: info(b), equal, machine, ram: { blocks, pages, ...(note ? { note } : {}) }, devices };
}

const hexLen = (n: number | undefined): string => (n === undefined ? "absent" : `0x${n.toString(16)}`);

/** The lines `vmstream diff` prints; `textRanges` differing ranges per block are shown. */
export function formatDiff(r: DiffReport, textRanges: number): string[] {
  const { devices } = r;
  const lines = [`A: ${r.a.file} (${r.a.format}, ${r.a.machine ?? "no machine type"})`, `B: ${r.b.file} (${r.b.format}, ${r.b.machine ?? "no machine type"})`];
  if (r.machine) lines.push(`machine type: ${r.machine.a ?? "none"} in A, ${r.machine.b ?? "none"} in B`);
  for (const x of r.ram.blocks) lines.push(`RAM block ${x.name}: ${hexLen(x.a)} bytes in A, ${hexLen(x.b)} in B`);
  for (const p of r.ram.pages) {
    const counts = [p.differ && `${p.differ} pages differ`, p.onlyA && `${p.onlyA} carried only in A`, p.onlyB && `${p.onlyB} carried only in B`].filter(Boolean).join(", ");
    const shown = p.ranges.slice(0, textRanges).map(hexRange).join(" ");
    lines.push(`RAM block ${p.name}: ${counts}: ${shown}${p.rangeCount > textRanges ? ` … and ${p.rangeCount - Math.min(textRanges, p.ranges.length)} more ranges (--pages lists them)` : ""}`);
  }
  if (r.ram.note) lines.push(`RAM pages not compared: ${r.ram.note}`);
  lines.push(...formatDeviceDiff(devices));
  lines.push(
    r.equal
      ? `equal: ${devices.compared} sections compared`
      : `different: ${devices.compared} sections compared, ${devices.fields.length} field differences, ${devices.onlyA.length + devices.onlyB.length} sections only in one`,
  );
  return lines;
}
