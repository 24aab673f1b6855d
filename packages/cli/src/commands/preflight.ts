/**
 * `vmstream preflight STREAM --against DEST [--dump DEST.json] [--json]
 *  [--uuid U] [--capability C,…] [--postcopy] [--qemu BIN -- ARGS…]`:
 * predicts whether QEMU loads STREAM on the destination, one line per cause
 * in QEMU's words. Exit 0 predicted to load, 1 predicted refusal (or an
 * invalid stream), 2 usage.
 */
import { open, readFile } from "node:fs/promises";
import { WireError, parseJsonBytes } from "@vmstream/framing";
import { type PreflightDest, type PreflightResult, type QemuSummary, type StreamFacts, preflight, streamFacts, summarize } from "@vmstream/vmstate";
import type { Flags } from "../command.js";
import { UsageError } from "../errors.js";
import { openInput, writeStdout } from "../io.js";
import { type Ctx, guarded } from "../report.js";
import { DestinationDoesNotStart, probeQemu } from "./preflight-probe.js";

const QEMU_MAGIC = 0x5145564d; // "QEVM"

async function head(path: string): Promise<Uint8Array> {
  try {
    const fh = await open(path, "r");
    try {
      const b = new Uint8Array(8);
      const { bytesRead } = await fh.read(b, 0, 8, 0);
      return b.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const isStream = (b: Uint8Array) => b.length >= 8 && new DataView(b.buffer, b.byteOffset, 8).getUint32(0) === QEMU_MAGIC;

/** The vmdesc JSON, read from the file where the summary found it. */
async function readVmdesc(path: string, sum: QemuSummary): Promise<unknown> {
  const v = sum.vmdesc;
  if (!v || v.offset < 0) return null;
  const fh = await open(path, "r");
  try {
    // The summary's offset is the trailer's marker byte, then a be32 length, then `length` bytes of JSON.
    const b = Buffer.alloc(v.length + 5);
    const { bytesRead } = await fh.read(b, 0, b.length, v.offset);
    const text = b.subarray(5, bytesRead).toString("latin1").replace(/\0+$/, "");
    return JSON.parse(text);
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/** Read a stream's facts; an invalid stream is a WireError (exit 1) naming the offset. */
export async function readStreamFacts(ctx: Ctx, path: string): Promise<StreamFacts> {
  const h = await head(path);
  ctx.file = path;
  if (!isStream(h)) throw new WireError("MALFORMED", "not a QEMU savevm stream (no QEVM magic)", 0);
  const version = new DataView(h.buffer, h.byteOffset, 8).getUint32(4);
  ctx.format = `qemu@${version}`;
  const input = await openInput(path);
  let sum: QemuSummary;
  try {
    sum = await summarize(input, String(version), {});
  } finally {
    await input.close();
  }
  // A stream vmstream cannot read to the end (a RAM layout it does not know yet) still has its
  // configuration first: check what was read, and say where reading stopped.
  if (sum.fault && !sum.configuration) throw new WireError("MALFORMED", sum.fault.message, sum.fault.offset);
  const facts = streamFacts(sum, sum.fault ? null : await readVmdesc(path, sum));
  if (sum.fault) facts.partial = `${path} read up to offset ${sum.fault.offset} (${sum.fault.message}): sections and RAM blocks after it not checked`;
  return facts;
}

async function readDumpFile(ctx: Ctx, path: string): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  ctx.file = path;
  ctx.format = "vmstate-dump";
  // A syntax error names the byte where the document stops being JSON.
  return parseJsonBytes(bytes);
}

export async function preflightCommand(pos: string[], flags: Flags): Promise<void> {
  const [streamPath, ...qemuArgs] = pos;
  const against = typeof flags.against === "string" ? flags.against : undefined;
  const dumpPath = typeof flags.dump === "string" ? flags.dump : undefined;
  const qemu = typeof flags.qemu === "string" ? flags.qemu : undefined;
  if (!against && !dumpPath && !qemu) throw new UsageError("preflight: say what the destination is: --against PROBE.mig|DUMP.json, --dump DUMP.json, or --qemu BIN -- ARGS");
  if (qemuArgs.length && !qemu) throw new UsageError(`preflight: unexpected argument '${qemuArgs[0]}' (QEMU arguments follow --qemu BIN --)`);
  const ctx: Ctx = { file: streamPath!, format: "qemu" };
  // Unreadable paths are usage errors, before any input is judged.
  for (const p of [against, dumpPath]) if (p) await head(p);
  await guarded(ctx, async () => {
    const stream = await readStreamFacts(ctx, streamPath!);
    const dest: PreflightDest = {};
    const sources: string[] = [];
    for (const p of [against, dumpPath]) {
      if (!p) continue;
      if (isStream(await head(p))) {
        dest.probe = await readStreamFacts(ctx, p);
        sources.push(`probe ${p}`);
      } else {
        dest.dump = await readDumpFile(ctx, p);
        sources.push(`dump ${p}`);
      }
    }
    // A destination that does not start is the whole answer: QEMU never gets to the stream.
    let startFailure: PreflightResult | null = null;
    if (qemu) {
      sources.push(`${qemu} ${qemuArgs.join(" ")}`);
      try {
        const made = await probeQemu(qemu, qemuArgs, { uuid: stream.uuid !== null, capabilities: stream.capabilities });
        ctx.file = made.stream;
        dest.probe = await readStreamFacts(ctx, made.stream);
        if (!dest.dump && made.dump) dest.dump = await readDumpFile(ctx, made.dump);
        await made.cleanup();
      } catch (e) {
        if (!(e instanceof DestinationDoesNotStart)) throw e;
        const cause = { code: "destination-start" as const, message: `the destination does not start: ${e.message}`, fatal: true };
        startFailure = { loads: false, causes: [cause], checked: ["the destination's command line"] };
      }
    }
    if (typeof flags.uuid === "string") dest.uuid = flags.uuid;
    if (typeof flags.capability === "string") dest.capabilities = flags.capability.split(",").filter(Boolean);
    if (flags.postcopy === true) dest.postcopy = true;
    ctx.file = streamPath!;
    let r: PreflightResult;
    try {
      r = startFailure ?? preflight(stream, dest);
    } catch (e) {
      if (e instanceof WireError) ctx.file = dumpPath ?? against ?? streamPath!;
      throw e;
    }
    if (flags.json === true) {
      await writeStdout(`${JSON.stringify({ stream: streamPath, against: sources, loads: r.loads, causes: r.causes, checked: r.checked }, null, 2)}\n`);
    } else {
      const lines = r.causes.map((c) => `${c.fatal ? "refused" : "may refuse"}: ${c.message}`);
      lines.push(r.loads ? `loads: ${streamPath} on ${sources.join(" + ")} (checked ${r.checked.join(", ")})` : `refused: ${streamPath} on ${sources.join(" + ")}`);
      await writeStdout(`${lines.join("\n")}\n`);
    }
    process.exitCode = r.loads ? 0 : 1;
  });
}
