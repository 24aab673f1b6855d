/**
 * One side of a diff, read in two passes of its stream: RAM (a digest per
 * page, `exportMemory`) together with the section headers and the machine
 * type, then the device state as `--view analyze` shows it (which seeks over
 * the pages). The caller opens the stream for each pass (a file, a qcow2
 * snapshot, a File in the browser); `readRam` is the first pass.
 */
import type { StreamReader } from "@vmstream/framing";
import { exportMemory, type MemoryOptions } from "../stream/memory.js";
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
  const report = await exportMemory(input, version, {
    ...opts,
    onEvent: (ev) => {
      if (ev.t === "section") sections.push({ kind: ev.kind, id: ev.id, idstr: ev.idstr, instance: ev.instance, version: ev.version });
      else if (ev.t === "config") machine = ev.name;
    },
  }, pages);
  return { machine, sections, blocks: report.blocks.map((b) => ({ name: b.name, length: b.length })), pages };
}
