import { tmpdir } from "node:os";
import { WireError } from "@vmstream/framing";
import { type DiffSide, NeedsPageStore, type PageStore, diffSides, formatDiff, readRam } from "@vmstream/vmstate";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { inflatePage } from "../inflate-page.js";
import { PositionalFile } from "../positional-file.js";
import { type Ctx, guarded } from "../report.js";

/**
 * Page contents of a stream with XBZRLE pages, in a sparse scratch file in
 * the temporary directory (the RAM blocks one after another, as they are met);
 * removed when the diff ends. Only such streams pay for it.
 */
class ScratchPages implements PageStore {
  private readonly bases = new Map<string, number>();
  private next = 0;
  private constructor(readonly file: PositionalFile) {}
  static async create(): Promise<ScratchPages> {
    return new ScratchPages(await PositionalFile.create(`${tmpdir()}/vmstream-diff-pages`));
  }
  block(name: string, length: number): void {
    if (this.bases.has(name)) return;
    this.bases.set(name, this.next);
    this.next += Math.ceil(length / 65536) * 65536;
  }
  write(block: string, offset: number, data: Uint8Array): Promise<void> | void {
    return this.file.write(this.bases.get(block)! + offset, data);
  }
  read(block: string, offset: number, n: number): Promise<Uint8Array> {
    return this.file.read(this.bases.get(block)! + offset, n);
  }
}

/** `--snapshot-a` / `--snapshot-b` pick each side's qcow2 snapshot (two snapshots of one image); `--snapshot` both. */
function sideFlags(flags: Record<string, string | boolean | undefined>, which: "a" | "b"): Record<string, string | boolean | undefined> {
  const own = flags[`snapshot-${which}`];
  return { ...flags, ...(typeof own === "string" ? { snapshot: own } : {}) };
}

/**
 * One QEMU save, read once: RAM digests with the section headers, the
 * machine type and the analyze view. A stream with XBZRLE pages is met by its
 * first such page; the pass then starts again keeping page contents in a
 * scratch file, so the deltas apply.
 */
async function side(file: string, flags: Record<string, string | boolean | undefined>): Promise<DiffSide | undefined> {
  if (file === "-") throw new UsageError("diff may read an input twice (XBZRLE pages): give files, not '-'");
  const ctx: Ctx = { file, command: "diff" };
  let out: DiffSide | undefined;
  await guarded(ctx, async () => {
    let scratch: ScratchPages | null = null;
    try {
      const ramPass = () =>
        withInput(ctx, file, flags, async (o) => {
          if (o.codec.family !== "qemu") throw new WireError("REFUSED", `diff compares QEMU streams; this is ${o.codec.family}@${o.version}`, 0);
          const ram = await readRam(o.reader, o.version, { ...o.opts, inflate: inflatePage }, scratch);
          return { ram, format: `qemu@${o.version}`, label: o.container?.label };
        });
      let first: Awaited<ReturnType<typeof ramPass>>;
      try {
        first = await ramPass();
      } catch (e) {
        if (!(e instanceof NeedsPageStore)) throw e;
        scratch = await ScratchPages.create();
        first = await ramPass();
      }
      const { ram } = first;
      const analyze = ram.analyze();
      out = { file: first.label ?? file, format: first.format, machine: ram.machine, summary: { sections: ram.sections }, analyze, blocks: ram.blocks, pages: ram.pages };
    } finally {
      if (scratch) await scratch.file.discard();
    }
  });
  return out;
}

/**
 * `vmstream diff A B [--json] [--pages]`: what differs between two QEMU saves —
 * the machine, sections only in one, device state field by field (as `--view
 * analyze` prints it), RAM blocks and their pages. Exit 0 equal, 1 different, as diff(1).
 */
export const diff: Command = {
  options: { ...formatOptions, json: { type: "boolean" }, pages: { type: "boolean" }, "snapshot-a": { type: "string" }, "snapshot-b": { type: "string" } },
  positionals: [2, 2],
  async run([fa, fb], flags) {
    const a = await side(fa!, sideFlags(flags, "a"));
    if (process.exitCode || !a) return;
    const b = await side(fb!, sideFlags(flags, "b"));
    if (process.exitCode || !b) return;
    const listAll = flags.pages === true;
    const report = diffSides(a, b, listAll ? Infinity : 8);
    if (flags.json === true) {
      const { note: _, ...ram } = report.ram;
      await writeStdout(`${JSON.stringify({ ...report, ram }, null, 2)}\n`);
    } else await writeStdout(`${formatDiff(report, listAll ? Infinity : 8).join("\n")}\n`);
    process.exitCode = report.equal ? 0 : 1;
  },
};
