import { realpathSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { RefusedError, type Sink, StreamReader, type StreamReaderOptions } from "@vmstream/framing";
import { atomicFileSink, fileSource, stdinSource, stdoutSink } from "@vmstream/node";
import { UsageError } from "./errors.js";

export async function openInput(path: string, opts: StreamReaderOptions = {}): Promise<StreamReader> {
  if (path === "-") return new StreamReader(await stdinSource(), opts);
  // A directory opens fine on Linux and fails only at the first read: refuse it as a usage error.
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Reported by the open below, with its errno.
  }
  if (isDir) throw new UsageError(`cannot read ${path}: it is a directory`);
  try {
    // Regular files are read synchronously (no thread pool to overlap with): no read-ahead.
    return new StreamReader(await fileSource(path), opts);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function inputSize(path: string): number | undefined {
  if (path === "-") return undefined;
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** An output file is written atomically; `-` is standard output. The input itself is never a target. */
export async function openOutput(path: string, inputs: string[]): Promise<Sink> {
  if (path === "-") return stdoutSink();
  checkOutput(path, inputs);
  try {
    return await atomicFileSink(path);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** What `openOutput` refuses before it creates anything: a directory, or one of the inputs. */
export function checkOutput(path: string, inputs: string[]): void {
  // Renaming the finished file over a directory fails only at the very end: refuse it up front.
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    // Does not exist yet: the usual case.
  }
  if (isDir) throw new UsageError(`cannot write ${path}: it is a directory`);
  const target = canonical(path);
  for (const i of inputs) {
    if (i !== "-" && canonical(i) === target) throw new RefusedError(`output ${path} is the input file; refusing to overwrite it`);
  }
}

/** Run `fn` against a sink; on any failure the sink is aborted (no partial file). */
export async function withOutput(sink: Sink, fn: (s: Sink) => Promise<void>): Promise<void> {
  try {
    await fn(sink);
    await sink.close();
  } catch (e) {
    await sink.abort?.();
    throw e;
  }
}

export { writeStdout } from "./stdout.js";
