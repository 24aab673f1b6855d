/**
 * `vmstream memory` of Xen saves: the streams are written by the independent
 * Python encoder (fixtures/tools/xenpeer), never by vmstream, and the pages
 * must come out at pfn × 4096, byte for byte — in the ELF core (through its
 * PT_LOADs) and in the raw image. Pages never sent are holes (no PT_LOAD
 * covers them, the raw image has no data there), entries without data
 * (XTAB, XALLOC, BROKEN) are not pages, and a pfn sent twice keeps its last
 * content, as libxc's restore leaves it.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, tmp } from "./fixtures.js";
import { vmstream } from "./run.js";

const dir = tmp();
mkdirSync(dir, { recursive: true });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const XENPEER = join(FIXTURES, "tools/xenpeer");
const PAGE = 4096;

/** Run a Python snippet with the encoder's modules importable. */
function python(code: string, ...args: string[]): Buffer {
  return execFileSync("python3", ["-c", code, ...args], { cwd: XENPEER, maxBuffer: 1 << 28 });
}

interface Load {
  offset: number;
  paddr: number;
  size: number;
}

/** PT_LOADs of an ELF64 core, by its own headers (e_phoff, PN_XNUM). */
function elfLoads(f: Buffer): Load[] {
  expect(f.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  expect(f.readUInt16LE(16)).toBe(4); // ET_CORE
  const phoff = Number(f.readBigUInt64LE(32));
  let phnum = f.readUInt16LE(56);
  if (phnum === 0xffff) phnum = f.readUInt32LE(Number(f.readBigUInt64LE(40)) + 44);
  const out: Load[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + 56 * i;
    if (f.readUInt32LE(p) !== 1) continue;
    const size = Number(f.readBigUInt64LE(p + 32));
    expect(Number(f.readBigUInt64LE(p + 40))).toBe(size);
    out.push({ offset: Number(f.readBigUInt64LE(p + 8)), paddr: Number(f.readBigUInt64LE(p + 24)), size });
  }
  return out;
}

/** The pages an ELF core holds, by pfn. */
function elfPages(f: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const l of elfLoads(f)) {
    expect(l.paddr % PAGE).toBe(0);
    expect(l.size % PAGE).toBe(0);
    for (let p = 0; p < l.size; p += PAGE) {
      const pfn = (l.paddr + p) / PAGE;
      expect(m.has(pfn), `pfn ${pfn} in two PT_LOADs`).toBe(false);
      m.set(pfn, f.subarray(l.offset + p, l.offset + p + PAGE));
    }
  }
  return m;
}

/** Allocated extents of a file (`[start, end)` bytes), from SEEK_DATA/SEEK_HOLE via Python. */
function dataExtents(file: string): [number, number][] {
  const out = execFileSync("python3", [
    "-c",
    "import os,sys\nfd=os.open(sys.argv[1],os.O_RDONLY);n=os.fstat(fd).st_size;p=0\nwhile p<n:\n try: s=os.lseek(fd,p,os.SEEK_DATA)\n except OSError: break\n e=os.lseek(fd,s,os.SEEK_HOLE);print(s,e);p=e",
    file,
  ]).toString();
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ").map(Number) as [number, number]);
}

async function memory(input: string, out: string, ...flags: string[]): Promise<Record<string, unknown>> {
  const r = await vmstream(["memory", input, out, "--json", ...flags]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.toString());
}

describe("memory of big_libxc.py / big_legacy.py streams: every pfn's page at pfn × 4096", () => {
  // 1 MiB = 256 pages; the expected pages are the encoder's own pool, indexed as it indexes it.
  const cases = [
    { name: "libxc", gen: "big_libxc.py", args: ["--wrap", "libxc"], pool: "big_libxc" },
    { name: "libxl", gen: "big_libxc.py", args: ["--wrap", "libxl"], pool: "big_libxc" },
    { name: "xl", gen: "big_libxc.py", args: ["--wrap", "xl"], pool: "big_libxc" },
    { name: "legacy 64", gen: "big_legacy.py", args: ["--width", "64"], pool: "legacy" },
    { name: "legacy 32", gen: "big_legacy.py", args: ["--width", "32"], pool: "legacy", flags: ["--format", "legacy@32", "--guest", "hvm"] },
  ];
  for (const c of cases) {
    it(`${c.name}: ELF core and raw image hold the encoder's 256 pages`, async () => {
      const input = join(dir, `big-${c.name.replace(" ", "")}.bin`);
      execFileSync("python3", [join(XENPEER, c.gen), input, "--mib", "1", ...c.args], { cwd: XENPEER });
      const expected = python(
        c.pool === "big_libxc"
          ? "import sys,big_libxc\np=big_libxc.pool_pages()\nsys.stdout.buffer.write(b''.join(p[(i*2654435761)%4096] for i in range(256)))"
          : "import sys,random\npool=random.Random(0xFEED).randbytes(4096*4096)\nsys.stdout.buffer.write(b''.join(pool[((i*2654435761)%4096)*4096:][:4096] for i in range(256)))",
      );
      expect(expected.byteLength).toBe(256 * PAGE);
      const elf = join(dir, `${c.name}.elf`);
      const raw = join(dir, `${c.name}.raw`);
      const j = await memory(input, elf, ...(c.flags ?? []));
      expect(j).toMatchObject({ mode: "elf", guest: "hvm", pages: { data: 256, resent: 0 }, carried: { pages: 256, runs: 1 }, loads: 1 });
      const pages = elfPages(readFileSync(elf));
      expect(pages.size).toBe(256);
      for (let pfn = 0; pfn < 256; pfn++) expect(pages.get(pfn)!.equals(expected.subarray(pfn * PAGE, (pfn + 1) * PAGE)), `pfn ${pfn}`).toBe(true);
      await memory(input, raw, "--raw", ...(c.flags ?? []));
      expect(readFileSync(raw).equals(expected)).toBe(true);
    });
  }
});

/**
 * A stream with gaps, a pfn far above the rest, a pfn sent twice and entries
 * without data, in libxc (v2 and v3), xl and legacy (64, 32) form. Page
 * content (pfn, generation): byte i = (pfn·7 + gen·101 + i) mod 251.
 */
const SPARSE = `
import struct, sys, xsr
from xsr import PF, XC
def page(pfn, gen): return bytes((pfn * 7 + gen * 101 + i) % 251 for i in range(4096))
kind, out = sys.argv[1], sys.argv[2]
first = [(0, 0, page(0, 0)), (1, 0, page(1, 0)), (2, 0, page(2, 0)), (3, 0, page(3, 0)),
         (10, PF["XTAB"], None), (11, PF["XALLOC"], None), (12, PF["BROKEN"], None)]
second = [(2, 0, page(2, 1)), (0x100, 0, page(0x100, 0)), (0x101, 0, page(0x101, 0)), (0x100000, 0, page(0x100000, 0))]
with open(out, "wb") as f:
    if kind.startswith("legacy"):
        w = int(kind[6:])
        f.write(xsr.ulong(w, 0x100001))
        f.write(xsr.leg_tsc_chunk(0, 1, 2000000, 1))
        f.write(xsr.leg_batch(w, first)); f.write(xsr.leg_batch(w, second))
        f.write(xsr.leg_param_chunk(-8, 0xFEFFD))
        f.write(struct.pack("<i", 0))
        f.write(struct.pack("<QQQ", 0xFEFFF, 0xFEFFE, 0xFEFFC))
        blob = xsr.hvm_save_blob(gtsc_khz=2000000)
        f.write(struct.pack("<I", len(blob)) + blob)
        f.write(xsr.leg_qemu_record(b"QEVM\\x00\\x00\\x00\\x03" + b"\\0" * 56))
    else:
        v = 2 if kind == "libxc2" else 3
        if kind == "xl":
            f.write(xsr.xl_hdr(2, 0, b"")); f.write(xsr.libxl_hdr(0)); f.write(xsr.rec(xsr.XL["LIBXC_CONTEXT"]))
        f.write(xsr.ihdr(v) + xsr.dhdr(xsr.DHDR_X86_HVM, 12, 4, 17))
        if v == 3: f.write(xsr.rec(XC["STATIC_DATA_END"]))
        f.write(xsr.page_data(first)); f.write(xsr.page_data(second))
        f.write(xsr.x86_tsc_info(mode=0, khz=2000000, nsec=1, incarnation=1))
        f.write(xsr.hvm_params([(1, 0xFEFFC)]))
        f.write(xsr.hvm_context(xsr.hvm_save_blob(gtsc_khz=2000000)))
        f.write(xsr.end())
        if kind == "xl":
            f.write(xsr.libxl_emu("EMULATOR_CONTEXT", xsr.EMU_QEMU_UPSTREAM, 0, b"QEVM\\x00\\x00\\x00\\x03" + b"\\0" * 56))
            f.write(xsr.rec(xsr.XL["END"]))
`;

/** The sparse stream of `kind`, written by the encoder (once per run). */
function sparse(kind: string): string {
  const input = join(dir, `sparse-${kind}.bin`);
  if (!existsSync(input)) python(SPARSE, kind, input);
  return input;
}

const pageOf = (pfn: number, gen: number): Buffer => {
  const b = Buffer.alloc(PAGE);
  for (let i = 0; i < PAGE; i++) b[i] = (pfn * 7 + gen * 101 + i) % 251;
  return b;
};
/** What the restore leaves: pfn 2's second content, the rest once. */
const WANT = new Map<number, Buffer>([0, 1, 2, 3, 0x100, 0x101, 0x100000].map((p) => [p, pageOf(p, p === 2 ? 1 : 0)]));

describe("memory of a sparse Xen stream: holes, a resent pfn, entries without data", () => {
  for (const kind of ["libxc3", "libxc2", "xl", "legacy64", "legacy32"]) {
    it(`${kind}`, async () => {
      const input = sparse(kind);
      const flags = kind === "legacy32" ? ["--format", "legacy@32"] : [];
      // Verified by vmstream's verify first: the stream is a valid one.
      const v = await vmstream(["verify", input, ...flags]);
      expect(v.code, v.stderr).toBe(0);
      const elf = join(dir, `sparse-${kind}.elf`);
      const j = (await memory(input, elf, ...flags)) as { pages: { data: number; resent: number; noData: Record<string, number> }; carried: { pages: number; runs: number; ranges: number[][] }; notCarried: { ranges: number[][] } };
      expect(j.pages).toEqual({ data: 8, resent: 1, noData: { XTAB: 1, XALLOC: 1, BROKEN: 1 } });
      expect(j.carried).toEqual({ pages: 7, runs: 3, ranges: [[0, 0x4000], [0x100000, 0x102000], [0x1_0000_0000, 0x1_0000_1000]] });
      expect(j.notCarried.ranges.slice(0, 2)).toEqual([[0x4000, 0x100000], [0x102000, 0x1_0000_0000]]);
      const got = elfPages(readFileSync(elf));
      // binutils' reader sees the same PT_LOADs (program headers after the data, as e_phoff says).
      const readelf = spawnSync("readelf", ["-lW", elf], { encoding: "utf8" });
      if (readelf.error) console.warn(`readelf not installed: the core is checked by this test's own reader only`);
      else {
        const rows = readelf.stdout.split("\n").filter((l) => /^\s+LOAD\s/.test(l)).map((l) => l.trim().split(/\s+/).slice(1, 6).map((x) => Number(x)));
        expect(rows.map(([off, , pa, fs]) => ({ offset: off, paddr: pa, size: fs }))).toEqual(elfLoads(readFileSync(elf)));
      }
      expect([...got.keys()].sort((a, b) => a - b)).toEqual([...WANT.keys()]);
      for (const [pfn, want] of WANT) expect(got.get(pfn)!.equals(want), `pfn ${pfn}`).toBe(true);
      // The far pfn does not make the core 4 GiB: data sits in 16 MiB slots.
      expect(readFileSync(elf).byteLength).toBeLessThan(64 << 20);

      const raw = join(dir, `sparse-${kind}.raw`);
      await memory(input, raw, "--raw", ...flags);
      expect(statSync(raw).size).toBe(kind.startsWith("legacy") ? 0x100001 * PAGE : (0x100000 + 1) * PAGE);
      const fd = openSync(raw, "r");
      const at = (pfn: number): Buffer => {
        const b = Buffer.alloc(PAGE);
        readSync(fd, b, 0, PAGE, pfn * PAGE);
        return b;
      };
      for (const [pfn, want] of WANT) expect(at(pfn).equals(want), `raw pfn ${pfn}`).toBe(true);
      // Holes are holes: the file system holds data only around the carried pages.
      const ext = dataExtents(raw);
      const allocated = ext.reduce((n, [s, e]) => n + (e - s), 0);
      expect(allocated).toBeLessThanOrEqual(2 << 20);
      for (const [s, e] of ext) for (let p = Math.floor(s / PAGE); p < Math.ceil(e / PAGE); p++) if (!WANT.has(p)) expect(at(p).every((x) => x === 0)).toBe(true);
      closeSync(fd);
      rmSync(raw);
    });
  }

  it("--blocks and --machine are refused for a Xen save, with one line", async () => {
    const input = sparse("libxc3");
    for (const flag of [["--blocks"], ["--machine", "pc"]]) {
      const out = join(dir, "refused.out");
      const r = await vmstream(["memory", input, out, ...flag]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/libxc@3: offset 0: /);
      expect(spawnSync("test", ["-e", out]).status).toBe(1);
    }
  });

  it("a cut stream: one error line with its offset, and no output left behind", async () => {
    const whole = readFileSync(sparse("xl"));
    const cut = join(dir, "cut-xl.bin");
    writeFileSync(cut, whole.subarray(0, 200 + 3 * PAGE));
    const out = join(dir, "cut.elf");
    const r = await vmstream(["memory", cut, out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^.*cut-xl\.bin: xl@1: offset \d+: .*\n$/);
    expect(spawnSync("sh", ["-c", `ls -A ${dir} | grep -c cut.elf`]).stdout.toString().trim()).toBe("0");
  });
});
