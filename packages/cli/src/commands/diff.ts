import { WireError } from "@vmstream/framing";
import { inflateSync } from "node:zlib";
import { type DeviceDiff, type DeviceSide, PageDigests, type QemuSummary, type RamBlockDiff, diffDevices, diffRam, exportMemory, formatDeviceDiff, hexRange } from "@vmstream/vmstate";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** A RAM block whose size differs, or that only one side has. */
interface RamSizeDiff {
  name: string;
  a?: number;
  b?: number;
}

interface Side extends DeviceSide {
  file: string;
  format: string;
  machine: string | null;
  blocks: { name: string; length: number }[];
  pages: PageDigests;
}

/** One QEMU stream's summary and analyze view (two reads of the file: diff takes files, not pipes). */
async function side(file: string, flags: Record<string, string | boolean | undefined>): Promise<Side> {
  if (file === "-") throw new UsageError("diff reads each input twice: give files, not '-'");
  const ctx: Ctx = { file, command: "diff" };
  let out: Side | undefined;
  await guarded(ctx, async () => {
    const summary = await withInput(ctx, file, flags, async (o) => {
      if (o.codec.family !== "qemu") throw new WireError("REFUSED", `diff compares QEMU streams; this is ${o.codec.family}@${o.version}`, 0);
      return (await o.codec.inspect(o.reader, o.version, o.opts)).json as QemuSummary;
    });
    if (summary.fault) throw new WireError("MALFORMED", summary.fault.message, summary.fault.offset);
    const analyze = await withInput(ctx, file, flags, async (o) => (await o.codec.inspect(o.reader, o.version, { ...o.opts, view: "analyze" })).json as Record<string, unknown>);
    const machine = summary.configuration?.name ?? null;
    // RAM: a digest per page as the stream is read (bounded: 8 bytes a page), never the pages themselves.
    const pages = new PageDigests();
    const inflate = (d: Uint8Array, size: number): Uint8Array => new Uint8Array(inflateSync(d, { maxOutputLength: size }));
    await withInput(ctx, file, flags, async (o) => exportMemory(o.reader, o.version, { ...o.opts, inflate }, pages));
    out = { file, format: summary.format, machine, summary, analyze, blocks: summary.ram.blocks, pages };
  });
  return out!;
}

function ramBlocks(a: Side, b: Side): RamSizeDiff[] {
  const out: RamSizeDiff[] = [];
  const mb = new Map(b.blocks.map((x) => [x.name, x.length]));
  const ma = new Map(a.blocks.map((x) => [x.name, x.length]));
  for (const x of a.blocks) if (mb.get(x.name) !== x.length) out.push({ name: x.name, a: x.length, b: mb.get(x.name) });
  for (const x of b.blocks) if (!ma.has(x.name)) out.push({ name: x.name, b: x.length });
  return out;
}

const hex = (n: number | undefined): string => (n === undefined ? "absent" : `0x${n.toString(16)}`);

/**
 * `vmstream diff A B [--json] [--pages]`: what differs between two QEMU saves —
 * the machine, sections only in one, device state field by field (as `--view
 * analyze` prints it), RAM blocks and their pages. Exit 0 equal, 1 different, as diff(1).
 */
export const diff: Command = {
  options: { ...formatOptions, json: { type: "boolean" }, pages: { type: "boolean" } },
  positionals: [2, 2],
  async run([fa, fb], flags) {
    const a = await side(fa!, flags);
    if (process.exitCode) return;
    const b = await side(fb!, flags);
    if (process.exitCode) return;
    const devices: DeviceDiff = diffDevices(a, b);
    const blocks = ramBlocks(a, b);
    const listAll = flags.pages === true;
    const pages: RamBlockDiff[] = diffRam(a.pages, b.pages, listAll ? Infinity : 8);
    const machine = a.machine !== b.machine ? { a: a.machine, b: b.machine } : null;
    const equal = !machine && !blocks.length && !pages.length && !devices.onlyA.length && !devices.onlyB.length && !devices.versions.length && !devices.fields.length;
    if (flags.json === true) {
      await writeStdout(`${JSON.stringify({ a: { file: a.file, format: a.format, machine: a.machine }, b: { file: b.file, format: b.format, machine: b.machine }, equal, machine, ram: { blocks, pages }, devices }, null, 2)}\n`);
    } else {
      const lines = [`A: ${a.file} (${a.format}, ${a.machine ?? "no machine type"})`, `B: ${b.file} (${b.format}, ${b.machine ?? "no machine type"})`];
      if (machine) lines.push(`machine type: ${machine.a ?? "none"} in A, ${machine.b ?? "none"} in B`);
      for (const x of blocks) lines.push(`RAM block ${x.name}: ${hex(x.a)} bytes in A, ${hex(x.b)} in B`);
      for (const p of pages) {
        const counts = [p.differ && `${p.differ} pages differ`, p.onlyA && `${p.onlyA} carried only in A`, p.onlyB && `${p.onlyB} carried only in B`].filter(Boolean).join(", ");
        const shown = p.ranges.map(hexRange).join(" ");
        lines.push(`RAM block ${p.name}: ${counts}: ${shown}${p.rangeCount > p.ranges.length ? ` … and ${p.rangeCount - p.ranges.length} more ranges (--pages lists them)` : ""}`);
      }
      lines.push(...formatDeviceDiff(devices));
      lines.push(equal ? `equal: ${devices.compared} sections compared` : `different: ${devices.compared} sections compared, ${devices.fields.length} field differences, ${devices.onlyA.length + devices.onlyB.length} sections only in one`);
      await writeStdout(`${lines.join("\n")}\n`);
    }
    process.exitCode = equal ? 0 : 1;
  },
};
