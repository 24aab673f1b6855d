import { readFile } from "node:fs/promises";
import * as vmstate from "@vmstream/vmstate";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { errorLine } from "../report.js";

/** One finding of the static checker (`schemaDiff` in @vmstream/vmstate). */
export interface Finding {
  severity: string;
  section: string;
  path: string;
  message: string;
}

type SchemaDiffFn = (src: unknown, dst: unknown) => Finding[] | { findings: Finding[] };
type FormatFn = (f: Finding) => string;

/** A finding that makes the pair incompatible (QEMU's checker counts errors only). */
const isError = (f: Finding) => f.severity !== "warning" && f.severity !== "info" && f.severity !== "note";

async function readDump(path: string): Promise<unknown> {
  let text: string;
  try {
    if (path === "-") {
      const parts: Buffer[] = [];
      for await (const c of process.stdin) parts.push(c as Buffer);
      text = Buffer.concat(parts).toString("utf8");
    } else {
      text = await readFile(path, "utf8");
    }
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const at = /position (\d+)/.exec(msg);
    throw new DumpError(errorLine({ file: path, format: "vmstate-dump" }, at ? Number(at[1]) : 0, `not valid JSON: ${msg}`));
  }
}

class DumpError extends Error {}

/**
 * `vmstream schema-diff SRC.json DST.json [--json]`: can a QEMU with DST's
 * schema load what a QEMU with SRC's schema sends? Exit 0 compatible, 1 not.
 */
export async function schemaDiffCommand(src: string, dst: string, json: boolean): Promise<void> {
  const mod = vmstate as Record<string, unknown>;
  const diff = mod.schemaDiff as SchemaDiffFn | undefined;
  const format = (mod.formatFinding as FormatFn | undefined) ?? ((f: Finding) => `${f.severity}: ${f.section}: ${f.path ? `${f.path}: ` : ""}${f.message}`);
  if (typeof diff !== "function") throw new UsageError("schema-diff is not available in this build yet");
  if (src === "-" && dst === "-") throw new UsageError("schema-diff: only one of SRC and DST can be '-'");
  let findings: Finding[];
  try {
    const a = await readDump(src);
    const b = await readDump(dst);
    const r = diff(a, b);
    findings = Array.isArray(r) ? r : r.findings;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const line = e instanceof DumpError ? e.message : `${src}: vmstate-dump: offset 0: ${(e as Error).message}`;
    process.stderr.write(`${line}\n`);
    process.exitCode = 1;
    return;
  }
  const errors = findings.filter(isError).length;
  if (json) {
    await writeStdout(`${JSON.stringify({ compatible: errors === 0, errors, warnings: findings.length - errors, findings }, null, 2)}\n`);
  } else {
    const lines = findings.map(format);
    lines.push(errors === 0 ? `compatible (${findings.length} warning${findings.length === 1 ? "" : "s"})` : `incompatible: ${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"}`);
    await writeStdout(`${lines.join("\n")}\n`);
  }
  if (errors > 0) process.exitCode = 1;
}
