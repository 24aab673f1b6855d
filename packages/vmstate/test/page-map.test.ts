/**
 * walkPageRuns: the page runs of real QEMU streams, against what is known of
 * how each was made (fixtures/qemu/README.md, fixtures/qemu-releases/README.md).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StreamReader, WireError } from "@vmstream/framing";
import { describe, expect, it } from "vitest";
import { type PageRun, walkPageRuns } from "../src/index.js";
import { FIXTURES } from "./qemu-helpers.js";

async function runs(bytes: Uint8Array): Promise<{ runs: PageRun[]; blocks: string[]; fault?: WireError }> {
  const out: PageRun[] = [];
  const blocks: string[] = [];
  try {
    await walkPageRuns(StreamReader.of(bytes), "3", {}, { block: (n, len, ps) => blocks.push(`${n} ${len} ${ps}`), run: (r) => out.push({ ...r }) });
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { runs: out, blocks, fault: e };
  }
  return { runs: out, blocks };
}

const ram = (rs: PageRun[]) => rs.filter((r) => r.block === "pc.ram").map((r) => `${r.kind} ${r.firstPage}+${r.count}`);

describe("walkPageRuns", () => {
  it("6 MiB of random RAM loaded at 0x400000 of a 32 MiB guest: one run of data pages there, zero pages around", async () => {
    const { runs: rs, blocks } = await runs(readFileSync(join(FIXTURES, "qemu/pc-7.2-ram6m.mig")));
    expect(blocks[0]).toBe("pc.ram 33554432 4096");
    expect(ram(rs)).toEqual(["zero 0+1024", "data 1024+1536", "zero 2560+5632"]);
  });

  it("QEMU 10.0's XBZRLE stream: 256 XBZRLE pages, all in 0x10000–0x8ffff where the dirtier BIOS writes", async () => {
    const { runs: rs } = await runs(readFileSync(join(FIXTURES, "qemu-releases/10.0/pc-10.0-xbzrle.mig")));
    const x = rs.filter((r) => r.kind === "xbzrle");
    expect(x.reduce((s, r) => s + r.count, 0)).toBe(256);
    for (const r of x) expect([r.block, r.firstPage >= 0x10, r.firstPage + r.count <= 0x90]).toEqual(["pc.ram", true, true]);
  });

  it("a mapped-ram file: runs of the pages its bitmap marks", async () => {
    const { runs: rs } = await runs(readFileSync(join(FIXTURES, "qemu-releases/10.0/pc-10.0-mappedram-m16.mig")));
    expect(ram(rs)).toEqual(["mapped 1024+256"]);
  });

  it("a cut stream: the runs read before the cut, then the fault with its offset", async () => {
    const whole = readFileSync(join(FIXTURES, "qemu/pc-7.2-ram6m.mig"));
    const { runs: rs, fault } = await runs(whole.subarray(0, 3 << 20));
    expect(fault?.code).toBe("TRUNCATED");
    expect(fault?.offset).toBeLessThanOrEqual(3 << 20);
    const got = ram(rs);
    expect(got[0]).toBe("zero 0+1024");
    expect(got[1]).toMatch(/^data 1024\+\d+$/);
  });
});
