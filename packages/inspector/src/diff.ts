/**
 * `vmstream diff A B` in the worker: the comparison and the lines the CLI
 * makes (`readRam`, `diffSides`, `formatDiff` of @vmstream/vmstate). Each
 * side is read twice from its File (RAM with the section headers, then the
 * analyze view), each time streamed; only the analyze views and 8 bytes a
 * guest page are held. The browser has no synchronous zlib and no scratch
 * file: compressed or XBZRLE pages leave RAM uncompared, with a note.
 */
import { type FamilyCodec, RefusedError, type StreamReader, WireError } from "@vmstream/framing";
import { NeedsPageStore, type DiffReport as Report, type DiffSide, type DiffSideInfo, type QemuSummary, type RamSizeDiff, diffSides, formatDiff, readRam } from "@vmstream/vmstate";

export type { DiffSideInfo };
export type RamBlockDiff = RamSizeDiff;

/** The CLI's `--json` shape, plus the lines its text output prints. */
export interface DiffReport extends Report {
  lines: string[];
}

export interface DiffDeps {
  /** The codec and version of a file (detected or forced). */
  pick(file: File): Promise<{ codec: FamilyCodec; version: string }>;
  /** A fresh reader of the file; `label` names the pass on the progress line. */
  reader(file: File, label: string): StreamReader;
}

/** Ranges listed per block (the CLI's text shows the first 8, `--pages` all). */
const MAX_RANGES = 256;
const TEXT_RANGES = 8;

/** A fault in one input names the side and the file, like the CLI's `FILE: …` line. */
async function sideOf(which: "A" | "B", file: File, deps: DiffDeps): Promise<DiffSide> {
  try {
    const { codec, version } = await deps.pick(file);
    if (codec.family !== "qemu") throw new RefusedError(`diff compares QEMU streams; this is ${codec.family}@${version}`, 0);
    let ram: Awaited<ReturnType<typeof readRam>> | string;
    try {
      ram = await pass(deps.reader(file, `reading ${which}'s RAM`), (r) => readRam(r, version, {}));
    } catch (e) {
      if (!(e instanceof WireError) || e.code !== "REFUSED") throw e;
      ram =
        e instanceof NeedsPageStore
          ? `${which}: its XBZRLE pages need the pages they apply to, which the browser does not keep (vmstream diff compares them)`
          : `${which}: ${e.message}`;
    }
    // Without RAM digests the section headers, machine and blocks come from the summary (a third read).
    const head =
      typeof ram === "string"
        ? (() => pass(deps.reader(file, `reading ${which}`), (r) => codec.inspect(r, version, {})))().then((i) => {
            const s = i.json as QemuSummary;
            return { sections: s.sections, machine: s.configuration?.name ?? null, blocks: s.ram.blocks };
          })
        : Promise.resolve({ sections: ram.sections, machine: ram.machine, blocks: ram.blocks });
    const { sections, machine, blocks } = await head;
    const analyze = (await pass(deps.reader(file, `reading ${which}'s device state`), (r) => codec.inspect(r, version, { view: "analyze" }))).json as Record<string, unknown>;
    return { file: file.name, format: `qemu@${version}`, machine, summary: { sections }, analyze, blocks, pages: typeof ram === "string" ? ram : ram.pages };
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

export async function diffFiles(fa: File, fb: File, deps: DiffDeps): Promise<DiffReport> {
  const a = await sideOf("A", fa, deps);
  const b = await sideOf("B", fb, deps);
  const report = diffSides(a, b, MAX_RANGES);
  return { ...report, lines: formatDiff(report, TEXT_RANGES) };
}
