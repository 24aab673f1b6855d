import { mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { RefusedError, WireError } from "@vmstream/framing";
import { exportMemory, hexRange, x86RamRanges, type GpaRange, type MemoryReport, type MemoryTarget, type RamBlock } from "@vmstream/vmstate";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";
import { elfHeaders } from "../elf-core.js";
import { inflatePage } from "../inflate-page.js";
import { PositionalFile } from "../positional-file.js";
import { tmpName } from "@vmstream/node";
import { XEN_FAMILIES, exportXen, renderXen, xenReportJson } from "./memory-xen.js";

type Mode = "elf" | "raw" | "blocks";

/** Where each page of `pc.ram` goes in an ELF core or a raw image; other blocks are left out. */
class GpaTarget implements MemoryTarget {
  ranges: (GpaRange & { pos: number })[] | null = null;
  left: string[] = [];
  constructor(
    private readonly file: PositionalFile,
    private readonly mode: "elf" | "raw",
    private readonly machine: string | undefined,
  ) {}

  async block(b: RamBlock, machine: string | null, ps: number): Promise<void> {
    if (b.name !== "pc.ram") {
      this.left.push(b.name);
      return;
    }
    const m = this.machine ?? machine;
    const ranges = m ? x86RamRanges(m, b.length) : b.length < 0xb000_0000 ? [{ gpa: 0, offset: 0, length: b.length }] : null;
    if (!ranges) {
      throw new RefusedError(
        m
          ? `no guest-physical layout for machine "${m}" (x86 pc and q35 only): use --blocks`
          : `the stream names no machine type and pc.ram is too large to lie below 4 GiB whole: pass --machine pc or --machine q35`,
        0,
      );
    }
    if (this.mode === "raw") {
      this.ranges = ranges.map((r) => ({ ...r, pos: r.gpa }));
      const last = this.ranges[this.ranges.length - 1]!;
      this.file.size = Math.max(this.file.size, last.pos + last.length);
      return;
    }
    const head = 64 + 56 * (ranges.length + 1);
    let pos = Math.ceil(head / ps) * ps;
    this.ranges = ranges.map((r) => {
      const x = { ...r, pos };
      pos += r.length;
      return x;
    });
    await this.file.write(0, elfHeaders(this.ranges.map((r) => ({ gpa: r.gpa, offset: r.pos, length: r.length })), head));
    this.file.size = pos;
  }

  private where(offset: number, n: number): number {
    for (const r of this.ranges!) if (offset >= r.offset && offset + n <= r.offset + r.length) return r.pos + (offset - r.offset);
    throw new WireError("MALFORMED", `pc.ram offset ${offset} is outside the machine's RAM ranges`, 0);
  }

  write(block: string, offset: number, data: Uint8Array): Promise<void> | void {
    if (block !== "pc.ram" || !this.ranges) return;
    // The common case: the page lies in one range (no promise unless the file must flush).
    for (const r of this.ranges) if (offset >= r.offset && offset + data.byteLength <= r.offset + r.length) return this.file.write(r.pos + (offset - r.offset), data);
    return this.straddle(offset, data);
  }

  /** A run of pages across the split below 4 GiB: each range's part. */
  private async straddle(offset: number, data: Uint8Array): Promise<void> {
    for (const r of this.ranges!) {
      const s = Math.max(offset, r.offset);
      const e = Math.min(offset + data.byteLength, r.offset + r.length);
      if (s < e) await this.file.write(r.pos + (s - r.offset), data.subarray(s - offset, e - offset));
    }
  }

  async read(block: string, offset: number, n: number): Promise<Uint8Array> {
    if (block !== "pc.ram" || !this.ranges) return new Uint8Array(n);
    return this.file.read(this.where(offset, n), n);
  }
}

/** Each RAM block in its own file, by block offset. */
class BlocksTarget implements MemoryTarget {
  readonly files = new Map<string, PositionalFile>();
  constructor(private readonly dir: string) {}

  static fileName(block: string): string {
    return block.replace(/^\/+/, "").replace(/[^A-Za-z0-9._@-]/g, "_") || "_";
  }

  async block(b: RamBlock): Promise<void> {
    if (this.files.has(b.name)) return;
    const name = BlocksTarget.fileName(b.name);
    for (const f of this.files.values()) if (basename(f.path) === name) throw new RefusedError(`two RAM blocks map to the file name ${name}`, 0);
    const f = await PositionalFile.create(join(this.dir, name));
    f.size = b.length;
    this.files.set(b.name, f);
  }

  write(block: string, offset: number, data: Uint8Array): Promise<void> | void {
    return this.files.get(block)!.write(offset, data);
  }

  read(block: string, offset: number, n: number): Promise<Uint8Array> {
    return this.files.get(block)!.read(offset, n);
  }
}

function render(out: string, mode: Mode, r: MemoryReport, target: GpaTarget | null): string {
  const L: string[] = [];
  const what = mode === "elf" ? "ELF core" : mode === "raw" ? "raw image by guest-physical address" : "one file per RAM block";
  L.push(`${out}: ${what}; machine ${r.machine ?? "not named"}; page size ${r.pageSize}`);
  if (target?.ranges) for (const g of target.ranges) L.push(`  pc.ram ${hexRange([g.offset, g.offset + g.length])} at guest-physical ${hexRange([g.gpa, g.gpa + g.length])}`);
  const p = r.pages;
  L.push(`pages: ${p.data} data, ${p.zero} zero, ${p.compressed} compressed, ${p.xbzrle} xbzrle, ${p.mapped} mapped-ram (records, a page may come more than once)`);
  for (const b of r.blocks) {
    const out = target && b.name !== "pc.ram" ? " (not in this output: use --blocks)" : "";
    L.push(`  ${b.name}: ${b.pages} pages, ${b.carried} carried, ${b.pages - b.carried} not carried (holes)${out}`);
    if (b.carried < b.pages && b.missing.length) L.push(`    not carried: ${b.missing.slice(0, 8).map(hexRange).join(", ")}${b.missing.length > 8 ? ", …" : ""}`);
  }
  return `${L.join("\n")}\n`;
}

/** `vmstream memory IN OUT [--raw | --blocks] [--machine M] [--json]`: the guest's memory out of a QEMU stream or a Xen save (memory-xen.ts). */
export const memory: Command = {
  options: { ...formatOptions, raw: { type: "boolean" }, blocks: { type: "boolean" }, machine: { type: "string" }, json: { type: "boolean" }, width: { type: "string" }, guest: { type: "string" } },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    if (flags.raw && flags.blocks) throw new UsageError("--raw and --blocks exclude each other");
    if (outPath === "-") throw new UsageError("memory writes at file offsets: OUT must be a file (or a directory with --blocks), not -");
    const mode: Mode = flags.blocks ? "blocks" : flags.raw ? "raw" : "elf";
    const machine = typeof flags.machine === "string" ? flags.machine : undefined;
    if (flags.width !== undefined && flags.width !== "32" && flags.width !== "64") throw new UsageError(`--width: 32 or 64, not "${flags.width}"`);
    if (flags.guest !== undefined && flags.guest !== "pv" && flags.guest !== "hvm") throw new UsageError(`--guest: pv or hvm, not "${flags.guest}"`);
    if (machine && !x86RamRanges(machine, 0)) throw new UsageError(`--machine: unknown machine "${machine}" (pc, q35, pc-i440fx-X.Y or pc-q35-X.Y)`);
    const ctx: Ctx = { file: inPath!, command: "memory" };
    let out = outPath!;
    try {
      if (mode === "blocks" && statSync(out).isDirectory()) throw new UsageError(`${out} exists: --blocks writes a new directory`);
      if (mode !== "blocks" && statSync(out).isDirectory()) throw new UsageError(`cannot write ${out}: it is a directory`);
    } catch (e) {
      if (e instanceof UsageError) throw e;
    }
    await guarded(ctx, () =>
      withInput(ctx, inPath!, flags, async ({ reader, codec, version, opts, container }) => {
        // Inside a qcow2 image or a libvirt save image: the report names where the stream came from.
        const from = container ? { container: container.label } : {};
        const fromLine = container ? `read from ${container.label}\n` : "";
        if (XEN_FAMILIES.has(codec.family)) {
          if (mode === "blocks") throw new RefusedError(`--blocks writes QEMU RAM blocks; a Xen save (${codec.family}@${version}) has guest pages by pfn only: write the ELF core or --raw`, 0);
          if (machine) throw new RefusedError(`--machine lays out QEMU RAM; a Xen save's guest-physical address is pfn × 4096`, 0);
          const file = await PositionalFile.create(out);
          try {
            const { report, loads } = await exportXen(reader, codec.family, version, opts, file, mode as "elf" | "raw");
            renameSync(file.tmp, out);
            await writeStdout(flags.json ? `${JSON.stringify({ ...xenReportJson(out, mode, report, loads), ...from }, null, 2)}\n` : fromLine + renderXen(out, mode, report, loads));
          } catch (e) {
            await file.discard();
            throw e;
          }
          return;
        }
        if (codec.family !== "qemu") throw new RefusedError(`memory reads QEMU and Xen saves; this is ${codec.family}@${version}`, 0);
        const tmpDir = mode === "blocks" ? tmpName(out) : null;
        if (tmpDir) mkdirSync(tmpDir);
        const file = tmpDir ? null : await PositionalFile.create(out);
        const target = tmpDir ? new BlocksTarget(tmpDir) : new GpaTarget(file!, mode as "elf" | "raw", machine);
        try {
          const report = await exportMemory(reader, version, { ...opts, inflate: inflatePage }, target);
          if (file) {
            if (!(target as GpaTarget).ranges) throw new RefusedError("the stream has no pc.ram block: use --blocks", 0);
            await file.finish();
            renameSync(file.tmp, out);
          } else {
            for (const f of (target as BlocksTarget).files.values()) {
              await f.finish();
              renameSync(f.tmp, f.path);
            }
            renameSync(tmpDir!, out);
          }
          await writeStdout(flags.json ? `${JSON.stringify({ output: out, mode, ...from, ...report }, null, 2)}\n` : fromLine + render(out, mode, report, file ? (target as GpaTarget) : null));
        } catch (e) {
          if (file) await file.discard();
          else {
            for (const f of (target as BlocksTarget).files.values()) await f.discard();
            rmSync(tmpDir!, { recursive: true, force: true });
          }
          throw e;
        }
      }),
    );
    out = "";
  },
};
