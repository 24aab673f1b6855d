import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { StreamReader } from "@vmstream/framing";
import { walkPageRuns } from "@vmstream/vmstate";
import { describe, expect, it } from "vitest";
import { PageMapBuilder } from "../src/page-map.js";

const FIXTURES = fileURLToPath(new URL("../../../fixtures/", import.meta.url));

async function mapOf(file: string) {
  const b = new PageMapBuilder();
  await walkPageRuns(StreamReader.of(new Uint8Array(readFileSync(join(FIXTURES, file)))), "3", {}, b);
  return b.finish();
}

const show = (m: Awaited<ReturnType<typeof mapOf>>, block: string) =>
  m.blocks.find((x) => x.name === block)!.ranges!.map((r) => `${r.kinds.join("+") || "never"} 0x${(r.firstPage * 4096).toString(16)}+${r.count}`);

describe("page map (worker side)", () => {
  it("pc-7.2-ram6m: data pages exactly where the loader put 6 MiB of random bytes, zero pages elsewhere", async () => {
    // -m 32 -S -device loader,file=RANDOM_6MiB,addr=0x400000 (fixtures/qemu/README.md): pc.ram is 8192 pages.
    const m = await mapOf("qemu/pc-7.2-ram6m.mig");
    expect(show(m, "pc.ram")).toEqual(["zero 0x0+1024", "data 0x400000+1536", "zero 0xa00000+5632"]);
    const ram = m.blocks.find((x) => x.name === "pc.ram")!;
    expect([ram.pages, ram.distinct, ram.totals.data]).toEqual([8192, 8192, 1536]);
    expect(ram.unsent!.every((x) => x === 0)).toBe(true);
    // The strip: 1024 buckets of 8 pages; bucket 160 holds 0x500000.
    expect(ram.per).toBe(8);
    expect(ram.counts.slice(160 * 5, 161 * 5)).toEqual([8, 0, 0, 0, 0]);
  });

  it("QEMU 10.0's XBZRLE stream: the 128 pages the dirtier BIOS rewrites went as data, then as XBZRLE deltas", async () => {
    // dirtier-bios.S: small writes into each page of 0x10000-0x8ffff, the whole page at 0x90000 (an XBZRLE overflow:
    // sent as a page); the README counts 256 XBZRLE records.
    const m = await mapOf("qemu-releases/10.0/pc-10.0-xbzrle.mig");
    expect(show(m, "pc.ram")).toEqual(["zero 0x0+16", "data+xbzrle 0x10000+128", "data 0x90000+1", "zero 0x91000+16239"]);
    expect(m.blocks.find((x) => x.name === "pc.ram")!.totals.xbzrle).toBe(256);
  });

  it("compress threads send pages out of order; the map by address still shows 1 MiB of compressed pages at 0x400000", async () => {
    const m = await mapOf("qemu/pc-7.2-compress.mig");
    expect(show(m, "pc.ram")).toEqual(["zero 0x0+1024", "compressed 0x400000+256", "zero 0x500000+6912"]);
  });

  it("a mapped-ram file: the pages its bitmap marks (the 1 MiB loaded at 0x400000), every other page a hole", async () => {
    // -m 16 + -device loader,file=ram-1m.bin,addr=0x400000 (fixtures/qemu-releases/README.md); mapped-ram writes no zero pages.
    const m = await mapOf("qemu-releases/10.0/pc-10.0-mappedram-m16.mig");
    expect(show(m, "pc.ram")).toEqual(["never 0x0+1024", "mapped 0x400000+256", "never 0x500000+2816"]);
    expect(m.blocks.find((x) => x.name === "pc.ram")!.distinct).toBe(256);
  });

  it("pages never sent are holes in the map, and memory stays bounded by a table, not by the runs", () => {
    const b = new PageMapBuilder();
    b.block("pc.ram", 64 << 20, 4096); // 16384 pages
    b.run({ block: "pc.ram", firstPage: 10, count: 5, kind: "data" });
    b.run({ block: "pc.ram", firstPage: 12, count: 1, kind: "xbzrle" });
    b.run({ block: "pc.ram", firstPage: 16000, count: 384, kind: "zero" });
    const ram = b.finish().blocks[0]!;
    expect(ram.ranges!.map((r) => `${r.kinds.join("+") || "never"} ${r.firstPage}+${r.count}`)).toEqual([
      "never 0+10",
      "data 10+2",
      "data+xbzrle 12+1",
      "data 13+2",
      "never 15+15985",
      "zero 16000+384",
    ]);
    expect(ram.distinct).toBe(5 + 384);
    expect(ram.unsent!.reduce((s, x) => s + x, 0)).toBe(16384 - 389);
    // A block as large as the wire allows (2^52 bytes) with one page sent: no table that large is made.
    const huge = new PageMapBuilder();
    huge.block("big", 2 ** 52, 4096);
    huge.run({ block: "big", firstPage: 2 ** 40 - 1, count: 1, kind: "data" });
    const big = huge.finish().blocks[0]!;
    expect(big.counts.length).toBeLessThanOrEqual(1024 * 5);
    expect(big.ranges).not.toBeNull();
  });
});
