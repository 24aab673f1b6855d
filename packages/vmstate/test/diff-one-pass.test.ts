/**
 * diff reads each side once: the device state it compares is the analyze view
 * built from the RAM pass's own parse events (`readRam(...).analyze()`). It
 * must be what QEMU 10.0's scripts/analyze-migration.py printed for the same
 * stream (the `.analyze.json` references in fixtures/qemu-releases), and the
 * RAM digests of that same pass must be the ones the page contents give.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { RefusedError, StreamReader } from "@vmstream/framing";
import { PageDigests, exportMemory, readRam, type MemoryTarget, type RamBlock } from "../src/index.js";
import { FIXTURES } from "./qemu-helpers.js";

const RELEASES = join(FIXTURES, "qemu-releases");

/** Files below `dir` whose names end in `suffix`, in name order. */
function filesUnder(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, suffix));
    else if (n.endsWith(suffix)) out.push(p);
  }
  return out;
}

const refs = filesUnder(RELEASES, ".analyze.json");
const inflate = (d: Uint8Array, size: number): Uint8Array => new Uint8Array(inflateSync(d, { maxOutputLength: size }));

/** Whole pages held in memory (fixtures are small): what a target sees, to check the digests against. */
class Pages implements MemoryTarget {
  readonly blocks = new Map<string, Uint8Array>();
  readonly zeros = new Map<string, number>();
  async block(b: RamBlock): Promise<void> {
    this.blocks.set(b.name, new Uint8Array(b.length));
  }
  write(block: string, offset: number, data: Uint8Array): void {
    this.blocks.get(block)!.set(data, offset);
  }
  async read(block: string, offset: number, n: number): Promise<Uint8Array> {
    return this.blocks.get(block)!.slice(offset, offset + n);
  }
  zero(block: string, _offset: number, count: number): void {
    this.zeros.set(block, (this.zeros.get(block) ?? 0) + count);
  }
}

describe("diff's one pass: the analyze view equals analyze-migration.py's", () => {
  test("references are there", () => {
    expect(refs.length).toBeGreaterThanOrEqual(8);
  });

  test.each(refs.map((p) => [relative(RELEASES, p), p]))("%s", async (_, ref) => {
    const bytes = new Uint8Array(readFileSync(ref.replace(/\.analyze\.json$/, ".mig")));
    const side = await readRam(StreamReader.of(bytes), "3", { inflate });
    expect(side.analyze()).toEqual(JSON.parse(readFileSync(ref, "utf8")));
  });
});

describe("zero pages that never held data reach the target as stretches", () => {
  test("pc-10.0-ram1m: every zero page counted once, digests equal those of the written pages", async () => {
    const bytes = new Uint8Array(readFileSync(join(RELEASES, "10.0/pc-10.0-ram1m.mig")));
    const pages = new Pages();
    const report = await exportMemory(StreamReader.of(bytes), "3", { inflate }, pages);
    const zeros = [...pages.zeros.values()].reduce((a, b) => a + b, 0);
    // No page of this stream is sent twice: each ZERO record is either one counted in a stretch or written.
    expect(zeros).toBeGreaterThan(0);
    expect(zeros).toBeLessThanOrEqual(report.pages.zero);
    // Digests from the stretches equal digests of the same memory given page by page.
    const d = new PageDigests();
    await exportMemory(StreamReader.of(bytes), "3", { inflate }, d);
    for (const [name, mem] of pages.blocks) {
      const e = new PageDigests();
      const ps = report.pageSize;
      await e.block({ name, length: mem.byteLength } as RamBlock, null, ps);
      for (let o = 0; o < mem.byteLength; o += ps) e.write(name, o, mem.subarray(o, o + ps));
      const got = d.blocks.get(name)!;
      const want = e.blocks.get(name)!;
      for (let i = 0; i < got.pages; i++) {
        if (!((got.carried[i >>> 3]! >> (i & 7)) & 1)) continue;
        expect([got.digests[i * 2], got.digests[i * 2 + 1]], `${name} page ${i}`).toEqual([want.digests[i * 2], want.digests[i * 2 + 1]]);
      }
    }
  });

  test("a stream readRam refuses to analyze says why, as analyze does", async () => {
    // A stream without vmdesc (QEMU 2.0's machine type writes none).
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, "qemu/pc-2.0-old.mig")));
    const side = await readRam(StreamReader.of(bytes), "3", { inflate });
    expect(() => side.analyze()).toThrow(RefusedError);
  });
});

/** Page contents by block, in memory (fixtures are small): the store a diff keeps for XBZRLE streams. */
class MemoryStore {
  readonly blocks = new Map<string, Uint8Array>();
  block(name: string, length: number): void {
    if (!this.blocks.has(name)) this.blocks.set(name, new Uint8Array(length));
  }
  write(block: string, offset: number, data: Uint8Array): void {
    this.blocks.get(block)!.set(data, offset);
  }
  async read(block: string, offset: number, n: number): Promise<Uint8Array> {
    return this.blocks.get(block)!.slice(offset, offset + n);
  }
}

describe("the one pass's digests (pages read in place from the stream's runs) equal digests of the final memory, page by page", () => {
  // Every QEMU stream among the fixtures.
  const all = [...filesUnder(join(FIXTURES, "qemu"), ".mig"), ...filesUnder(RELEASES, ".mig")];
  test("fixture streams are there", () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
  });
  test.each(all.map((p) => [relative(FIXTURES, p), p]))("%s", async (_, path) => {
    const bytes = new Uint8Array(readFileSync(path));
    // The final memory, by block (pages as the stream last carried them).
    const pages = new Pages();
    let report;
    try {
      report = await exportMemory(StreamReader.of(bytes), "3", { inflate }, pages);
    } catch (e) {
      if (!(e instanceof RefusedError)) throw e;
      console.log(`${relative(FIXTURES, path)}: not exported (${e.message}); nothing to compare`);
      return;
    }
    const store = new MemoryStore();
    const d = new PageDigests(report.pages.xbzrle > 0 ? store : null);
    await exportMemory(StreamReader.of(bytes), "3", { inflate }, d);
    const ps = report.pageSize;
    for (const [name, mem] of pages.blocks) {
      const e = new PageDigests();
      await e.block({ name, length: mem.byteLength } as RamBlock, null, ps);
      for (let o = 0; o + ps <= mem.byteLength; o += ps) e.write(name, o, mem.subarray(o, o + ps));
      const got = d.blocks.get(name)!;
      const want = e.blocks.get(name)!;
      let checked = 0;
      for (let i = 0; i < got.pages && (i + 1) * ps <= mem.byteLength; i++) {
        if (!((got.carried[i >>> 3]! >> (i & 7)) & 1)) continue;
        checked++;
        if (got.digests[i * 2] !== want.digests[i * 2] || got.digests[i * 2 + 1] !== want.digests[i * 2 + 1])
          expect.fail(`${name} page ${i}: one-pass digest differs from the page's`);
      }
      // Every page the stream carried was compared (QEMU's blocks are whole pages).
      expect(checked).toBe(report.blocks.find((b) => b.name === name)!.carried);
    }
  });
});
