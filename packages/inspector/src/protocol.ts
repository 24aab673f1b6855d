/**
 * Messages between the page and the parsing worker. Everything crossing is
 * plain data (the worker normalises codec JSON with the lossless conventions:
 * 64-bit numbers as strings, bytes as base64).
 */

import type { DiffReport } from "./diff.js";
import type { PageMap } from "./page-map.js";

export type Task = "container" | "inspect" | "verify" | "analyze" | "decode" | "diff" | "pagemap";

/** The stream inside a container that a task reads instead of the file itself. */
export type Inner = { kind: "qcow2"; snapshot: string } | { kind: "libvirt-save" };

export interface SnapshotRow {
  id: string;
  name: string;
  date: string;
  clock: string;
  /** 0: a disk-only snapshot (nothing to show). */
  vmStateSize: number;
  vmStateOffset: number;
  icount: string;
}

/** A qcow2 image or a libvirt save image, as the page shows it above its stream. */
export interface ContainerInfo {
  kind: "qcow2" | "libvirt-save";
  format: string;
  /** The line `vmstream inspect` prints first. */
  title: string;
  /** Header fields (save images): name, value. */
  lines: [string, string][];
  snapshots?: SnapshotRow[];
  xml?: string;
  cookie?: string;
  streamOffset?: number;
  compression?: string;
  /** Why the stream inside cannot be read here (a compression the browser has not). */
  refused?: string;
}

export interface Request {
  id: number;
  task: Task;
  file: File;
  /** diff: the second stream (B; `file` is A). */
  other?: File;
  /** `family@version` to skip detection. */
  format?: string;
  /** decode: stop after this many characters of JSON. */
  limit?: number;
  /** Read the stream inside this container (`file` is the container). */
  inner?: Inner;
}

export interface Fault {
  offset: number;
  message: string;
  code: string;
  path: string;
  /**
   * A fault of the container met while its stream was read (a broken L2
   * table, a cut gzip stream): the offset is in the file, not the stream.
   */
  inContainer?: boolean;
}

export type Reply =
  /** The container the file is, or null for a bare stream. */
  | { id: number; kind: "container"; container: ContainerInfo | null }
  /** `label` names the pass when a task reads more than once (diff). */
  | { id: number; kind: "progress"; offset: number; size: number; label?: string }
  | { id: number; kind: "detected"; format: string; title: string }
  | { id: number; kind: "inspected"; format: string; json: unknown; text: string }
  | { id: number; kind: "verified"; format: string; items: number; bytes: number; notes: string[] }
  | { id: number; kind: "decoded"; text: string; truncated: boolean }
  | { id: number; kind: "diffed"; diff: DiffReport }
  /** The page map; with `fault`, of what was read before it. */
  | { id: number; kind: "pagemap"; map: PageMap; fault?: Fault }
  /** A fault in the stream; `partial` is what the codec understood before it, when it says. */
  | { id: number; kind: "fault"; format?: string; fault: Fault; partial?: { json: unknown; text: string } }
  /** A bug or an unsupported request, not a property of the stream. */
  | { id: number; kind: "error"; message: string };
