/**
 * Messages between the page and the parsing worker. Everything crossing is
 * plain data (the worker normalises codec JSON with the lossless conventions:
 * 64-bit numbers as strings, bytes as base64).
 */

export type Task = "inspect" | "verify" | "analyze" | "decode";

export interface Request {
  id: number;
  task: Task;
  file: File;
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
  | { id: number; kind: "progress"; offset: number; size: number }
  | { id: number; kind: "detected"; format: string; title: string }
  | { id: number; kind: "inspected"; format: string; json: unknown; text: string }
  | { id: number; kind: "verified"; format: string; items: number; bytes: number; notes: string[] }
  | { id: number; kind: "decoded"; text: string; truncated: boolean }
  /** A fault in the stream; `partial` is what the codec understood before it, when it says. */
  | { id: number; kind: "fault"; format?: string; fault: Fault; partial?: { json: unknown; text: string } }
  /** A bug or an unsupported request, not a property of the stream. */
  | { id: number; kind: "error"; message: string };
