import { readFile } from "node:fs/promises";
import { WireError, parseJsonBytes } from "@vmstream/framing";
import { type Finding, findingJson, formatFinding, schemaDiff, schemaDiffExitCode } from "@vmstream/vmstate";
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
async function readDump(ctx: Ctx, path: string): Promise<unknown> {
  const bytes = await readBytes(path);
  ctx.file = path;
  return parseJsonBytes(bytes);
}

/**
 * `vmstream schema-diff SRC.json DST.json [--json]`: can a QEMU with DST's
 * schema load what a QEMU with SRC's schema sends? One line per finding;
 * exit 0 compatible (warnings alone are compatible), 1 incompatible, 2 usage.
 */
export async function schemaDiffCommand(src: string, dst: string, json: boolean): Promise<void> {
  if (src === "-" && dst === "-") throw new UsageError("schema-diff: only one of SRC and DST can be '-'");
  const ctx: Ctx = { file: src, format: DUMP };
  await guarded(ctx, async () => {
    const a = await readDump(ctx, src);
    const b = await readDump(ctx, dst);
    let findings: Finding[];
    try {
      findings = schemaDiff(a, b);
    } catch (e) {
      // A document of the wrong shape: name the file the message is about.
      if (e instanceof WireError) ctx.file = e.message.startsWith("dest") ? dst : src;
      throw e;
    }
    const errors = findings.filter((f) => f.severity === "error").length;
    const warnings = findings.length - errors;
    if (json) {
      await writeStdout(`${JSON.stringify({ compatible: errors === 0, errors, warnings, findings: findings.map(findingJson) }, null, 2)}\n`);
    } else {
      const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;
      const verdict = errors === 0 ? `compatible: ${src} → ${dst} (${plural(warnings, "warning")})` : `incompatible: ${src} → ${dst}: ${plural(errors, "error")}, ${plural(warnings, "warning")}`;
      await writeStdout([...findings.map(formatFinding), verdict, ""].join("\n"));
    }
    process.exitCode = schemaDiffExitCode(findings);
  });
}
