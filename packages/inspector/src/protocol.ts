/**
 * Messages between the page and the parsing worker. Everything crossing is
 * plain data (the worker normalises codec JSON with the lossless conventions:
 * 64-bit numbers as strings, bytes as base64).
 */

import type { DiffReport } from "./diff.js";
import type { PageMap } from "./page-map.js";

export type Task = "inspect" | "verify" | "analyze" | "decode" | "diff" | "pagemap";

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
}

export interface Fault {
  offset: number;
  message: string;
  code: string;
  path: string;
}

export type Reply =
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
