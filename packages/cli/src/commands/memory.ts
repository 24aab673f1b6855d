import { randomBytes } from "node:crypto";
import { mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { inflateSync } from "node:zlib";
import { RefusedError, WireError } from "@vmstream/framing";
import { exportMemory, hexRange, x86RamRanges, type GpaRange, type MemoryReport, type MemoryTarget, type RamBlock } from "@vmstream/vmstate";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** Adjacent page writes are gathered into one positional write of up to this many bytes. */
const GATHER = 1 << 20;

/** A file written at offsets under a temporary name, renamed into place when complete. */
class PositionalFile {
  private pending = new Uint8Array(GATHER);
  private at = -1;
  private len = 0;
  size = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly tmp: string,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<PositionalFile> {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    return new PositionalFile(await open(tmp, "wx+", 0o644), tmp, path);
  }

  async write(pos: number, data: Uint8Array): Promise<void> {
    this.size = Math.max(this.size, pos + data.byteLength);
    if (this.len > 0 && pos === this.at + this.len && this.len + data.byteLength <= GATHER) {
      this.pending.set(data, this.len);
      this.len += data.byteLength;
      return;
    }
    await this.flush();
    if (data.byteLength > GATHER) return this.put(pos, data);
    this.at = pos;
    this.pending.set(data, 0);
    this.len = data.byteLength;
  }

  async read(pos: number, n: number): Promise<Uint8Array> {
    await this.flush();
    const out = new Uint8Array(n);
    const { bytesRead } = await this.fh.read(out, 0, n, pos);
    out.fill(0, bytesRead);
    return out;
  }

  private async put(pos: number, data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.byteLength; ) {
      const { bytesWritten } = await this.fh.write(data, off, data.byteLength - off, pos + off);
      off += bytesWritten;
    }
  }

  private async flush(): Promise<void> {
    if (this.len === 0) return;
    await this.put(this.at, this.pending.subarray(0, this.len));
    this.len = 0;
  }

  /** Give the file its full size (a hole at the end has no byte to give it) and close it. */
  async finish(size = this.size): Promise<void> {
    await this.flush();
    await this.fh.truncate(size);
    await this.fh.close();
  }

  async discard(): Promise<void> {
    await this.fh.close().catch(() => {});
    rmSync(this.tmp, { force: true });
  }
}

const PT_LOAD = 1;
const PT_NOTE = 4;

/** ELF64 x86-64 core header and program headers: one PT_NOTE (empty), one PT_LOAD per range. */
function elfHeaders(loads: { gpa: number; offset: number; length: number }[], noteAt: number): Uint8Array {
  const n = loads.length + 1;
  const b = new Uint8Array(64 + 56 * n);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 4, true); // ET_CORE
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(32, 64n, true); // e_phoff
  dv.setUint16(52, 64, true); // e_ehsize
  dv.setUint16(54, 56, true); // e_phentsize
  dv.setUint16(56, n, true);
  let p = 64;
  const ph = (type: number, offset: number, paddr: number, size: number): void => {
    dv.setUint32(p, type, true);
    dv.setBigUint64(p + 8, BigInt(offset), true);
    dv.setBigUint64(p + 24, BigInt(paddr), true);
    dv.setBigUint64(p + 32, BigInt(size), true);
    dv.setBigUint64(p + 40, BigInt(size), true);
    p += 56;
  };
  ph(PT_NOTE, noteAt, 0, 0);
  for (const l of loads) ph(PT_LOAD, l.offset, l.gpa, l.length);
  return b;
}

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

  async write(block: string, offset: number, data: Uint8Array): Promise<void> {
    if (block !== "pc.ram" || !this.ranges) return;
    // A run of pages may straddle the split below 4 GiB: place each range's part.
    for (const r of this.ranges) {
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

  async write(block: string, offset: number, data: Uint8Array): Promise<void> {
    await this.files.get(block)!.write(offset, data);
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

/** `vmstream memory IN OUT [--raw | --blocks] [--machine M] [--json]`: the guest's memory out of a QEMU stream. */
export const memory: Command = {
  options: { ...formatOptions, raw: { type: "boolean" }, blocks: { type: "boolean" }, machine: { type: "string" }, json: { type: "boolean" } },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    if (flags.raw && flags.blocks) throw new UsageError("--raw and --blocks exclude each other");
    if (outPath === "-") throw new UsageError("memory writes at file offsets: OUT must be a file (or a directory with --blocks), not -");
    const mode: Mode = flags.blocks ? "blocks" : flags.raw ? "raw" : "elf";
    const machine = typeof flags.machine === "string" ? flags.machine : undefined;
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
      withInput(ctx, inPath!, flags, async ({ reader, codec, version, opts }) => {
        if (codec.family !== "qemu") throw new RefusedError(`memory reads QEMU streams; this is ${codec.family}@${version}`, 0);
        const tmpDir = mode === "blocks" ? join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`) : null;
        if (tmpDir) mkdirSync(tmpDir);
        const file = tmpDir ? null : await PositionalFile.create(out);
        const target = tmpDir ? new BlocksTarget(tmpDir) : new GpaTarget(file!, mode as "elf" | "raw", machine);
        try {
          const inflate = (d: Uint8Array, size: number): Uint8Array => new Uint8Array(inflateSync(d, { maxOutputLength: size }));
          const report = await exportMemory(reader, version, { ...opts, inflate }, target);
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
          await writeStdout(flags.json ? `${JSON.stringify({ output: out, mode, ...report }, null, 2)}\n` : render(out, mode, report, file ? (target as GpaTarget) : null));
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
