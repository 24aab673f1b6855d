import { type Inspection, WireError } from "@vmstream/framing";
import { isUsageError } from "./errors.js";
import { printableLine } from "./printable.js";

/** What the error line names: the file and, once known, the format. */
export interface Ctx {
  file: string;
  format?: string;
  /** The running command, for the progress bar's label. */
  command?: string;
}

/** The contract line: `FILE: family@version: offset N: message`. */
export function errorLine(ctx: Ctx, offset: number, message: string): string {
  return printableLine(`${ctx.file}: ${ctx.format ?? "unknown"}: offset ${offset}: ${message}`);
}

/**
 * What a codec understood before a fault. Codecs may attach it to the error
 * they throw from `inspect` (`err.partial = {format, json, text}`) so that a
 * damaged stream still shows its first sections or records.
 */
export function partialOf(e: unknown): Inspection | undefined {
  const p = (e as { partial?: unknown } | null)?.partial;
  if (p && typeof p === "object" && typeof (p as Inspection).text === "string") return p as Inspection;
  return undefined;
}

/** A fault a codec reported inside its inspection (`json.fault`) instead of throwing. */
export interface EmbeddedFault {
  offset: number;
  message: string;
}

export function embeddedFault(ins: Inspection): EmbeddedFault | undefined {
  const f = (ins.json as { fault?: unknown } | null)?.fault;
  if (!f || typeof f !== "object") return undefined;
  const { offset, message } = f as { offset?: unknown; message?: unknown };
  return typeof offset === "number" && typeof message === "string" ? { offset, message } : undefined;
}

/**
 * Run `fn`; a WireError becomes the contract line and exit code 1. Anything
 * else unexpected is reported the same way, never as a stack trace
 * (VMSTREAM_DEBUG=1 adds the stack for developers).
 */
export async function guarded(ctx: Ctx, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (isUsageError(e)) throw e;
    // The reader of our output went away (`| head`): nothing to report, nothing failed.
    if ((e as NodeJS.ErrnoException)?.code === "EPIPE") return;
    if (e instanceof WireError) {
      process.stderr.write(`${errorLine(ctx, e.offset, e.message)}\n`);
    } else {
      process.stderr.write(`${errorLine(ctx, 0, `internal error: ${(e as Error)?.message ?? String(e)}`)}\n`);
      if (process.env.VMSTREAM_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    }
    process.exitCode = 1;
  }
}
