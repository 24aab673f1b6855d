/**
 * One side of a diff, read in one pass of its stream: RAM (a digest per
 * page, `exportMemory`) together with the section headers, the machine type
 * and the device state as `--view analyze` shows it (built from the same
 * parse events). The caller opens the stream (a file, a qcow2 snapshot, a
 * File in the browser) and passes it to `readRam`.
 */
import type { StreamReader } from "@vmstream/framing";
import { exportMemory, type MemoryOptions } from "../stream/memory.js";
import { AnalyzeEvents } from "../stream/analyze.js";
import type { SectionKind } from "../stream/parse.js";
import type { DeviceSide } from "./devices.js";
import { PageDigests, type PageStore } from "./ram.js";

export interface SectionHead {
  kind: SectionKind;
  id: number;
  idstr: string;
  instance: number;
  version: number;
}

/** What the RAM pass learns of one stream. */
export interface RamSide {
  machine: string | null;
  sections: SectionHead[];
  blocks: { name: string; length: number }[];
  pages: PageDigests;
  /**
   * The device state as `inspect --view analyze --json` gives it, from the same pass; a function
   * because it throws what analyze would refuse (no vmdesc, a section it cannot read).
   */
  analyze: () => Record<string, unknown>;
}

/** One side as the diff compares it. */
export interface DiffSide extends DeviceSide {
  file: string;
  format: string;
  machine: string | null;
  blocks: { name: string; length: number }[];
  /** Digests of the pages, or why there are none (the browser cannot inflate, or keep XBZRLE pages). */
  pages: PageDigests | string;
}

/** The RAM pass: page digests (contents in `store`, when given, for XBZRLE), section headers, machine type. */
export async function readRam(input: StreamReader, version: string, opts: MemoryOptions, store: PageStore | null = null): Promise<RamSide> {
  const sections: SectionHead[] = [];
  let machine: string | null = null;
  const pages = new PageDigests(store);
  let view: AnalyzeEvents | null = null;
  const report = await exportMemory(input, version, {
    ...opts,
    onEvent: (ev, st, borrowed) => {
      (view ??= new AnalyzeEvents(st, borrowed)).event(ev);
      if (ev.t === "section") sections.push({ kind: ev.kind, id: ev.id, idstr: ev.idstr, instance: ev.instance, version: ev.version });
      else if (ev.t === "config") machine = ev.name;
    },
  }, pages);
  const analyze = (): Record<string, unknown> => {
    if (!view) throw new Error("readRam: the stream gave no events");
    return view.plain();
  };
  return { machine, sections, blocks: report.blocks.map((b) => ({ name: b.name, length: b.length })), pages, analyze };
}
