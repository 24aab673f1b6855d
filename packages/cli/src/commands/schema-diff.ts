import { readFile } from "node:fs/promises";
import { WireError, parseJsonBytes } from "@vmstream/framing";
import {
  type Finding,
  type WireDiff,
  findingJson,
  formatFinding,
  formatWireFinding,
  schemaDiff,
  schemaDiffExitCode,
  wireDiff,
  wireDiffExitCode,
  wireFindingJson,
} from "@vmstream/vmstate";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { type Ctx, guarded } from "../report.js";

/** What the error line calls a `qemu -dump-vmstate` document. */
const DUMP = "vmstate-dump";

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    if (path !== "-") return await readFile(path);
    const parts: Buffer[] = [];
    for await (const c of process.stdin) parts.push(c as Buffer);
    return Buffer.concat(parts);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Parse one dump; a syntax error names the byte where the document stops being JSON. */
export async function readDump(ctx: Ctx, path: string): Promise<unknown> {
  const bytes = await readBytes(path);
  ctx.file = path;
  return parseJsonBytes(bytes);
}

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

export interface SchemaDiffFlags {
  json: boolean;
  /** QEMU's vmstate-static-checker.py findings instead of the wire comparison. */
  qemuCompatible: boolean;
}

/**
 * `vmstream schema-diff SRC.json DST.json [--json] [--qemu-compatible]`: can
 * a QEMU with DST's schema load what a QEMU with SRC's schema sends? By
 * default by wire layout; with --qemu-compatible, QEMU's checker's findings.
 * Exit 0 compatible, 1 incompatible, 2 usage.
 */
export async function schemaDiffCommand(src: string, dst: string, flags: SchemaDiffFlags): Promise<void> {
  if (src === "-" && dst === "-") throw new UsageError("schema-diff: only one of SRC and DST can be '-'");
  const ctx: Ctx = { file: src, format: DUMP };
  await guarded(ctx, async () => {
    const a = await readDump(ctx, src);
    const b = await readDump(ctx, dst);
    try {
      if (flags.qemuCompatible) await qemuMode(a, b, src, dst, flags.json);
      else await wireMode(a, b, src, dst, flags.json);
    } catch (e) {
      // A document of the wrong shape: name the file the message is about.
      if (e instanceof WireError) ctx.file = e.message.startsWith("dest") ? dst : src;
      throw e;
    }
  });
}

async function wireMode(a: unknown, b: unknown, src: string, dst: string, json: boolean): Promise<void> {
  const d: WireDiff = wireDiff(a, b);
  const n = { compatible: 0, conditional: 0, broken: 0 };
  for (const v of d.devices) n[v.verdict]++;
  const code = wireDiffExitCode(d);
  if (json) {
    const doc = {
      mode: "wire",
      compatible: code === 0,
      devices: { compared: d.devices.length, ...n, drops: d.devices.filter((v) => v.drops).length },
      onlyInSource: d.onlyInSource,
      onlyInDest: d.onlyInDest,
      findings: d.findings.map(wireFindingJson),
    };
    await writeStdout(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    const summary =
      `${code === 0 ? "compatible" : "incompatible"}: ${src} → ${dst}: ${plural(d.devices.length, "device")} in both builds: ` +
      `${n.compatible} compatible, ${n.conditional} conditional, ${n.broken} broken; ${d.onlyInSource.length} only in source, ${d.onlyInDest.length} only in destination`;
    await writeStdout([...d.findings.map(formatWireFinding), summary, ""].join("\n"));
  }
  process.exitCode = code;
}

async function qemuMode(a: unknown, b: unknown, src: string, dst: string, json: boolean): Promise<void> {
  const findings: Finding[] = schemaDiff(a, b);
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  if (json) {
    await writeStdout(`${JSON.stringify({ mode: "qemu-compatible", compatible: errors === 0, errors, warnings, findings: findings.map(findingJson) }, null, 2)}\n`);
  } else {
    const verdict = errors === 0 ? `compatible: ${src} → ${dst} (${plural(warnings, "warning")})` : `incompatible: ${src} → ${dst}: ${plural(errors, "error")}, ${plural(warnings, "warning")}`;
    await writeStdout([...findings.map(formatFinding), verdict, ""].join("\n"));
  }
  process.exitCode = schemaDiffExitCode(findings);
}
