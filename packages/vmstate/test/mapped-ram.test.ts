/**
 * mapped-ram files written by real QEMU 10.0 (fixtures/qemu-releases/10.0,
 * `migrate_set_capability mapped-ram on` + `migrate file:`, with and without
 * multifd): read, verified, recoded and decoded/encoded byte-identically with
 * their holes; converted to a plain stream and back to the very bytes QEMU
 * wrote; and each converted file loads in QEMU 10.0 with the guest's RAM
 * (the 1 MiB of random bytes the source had at 0x400000) intact.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { MemorySink, StreamReader, WireError } from "@vmstream/framing";
import { atomicFileSink, fileSource } from "@vmstream/node";
import { fc, test as fcTest } from "@fast-check/vitest";
import { propertyParams } from "@vmstream/testing";
import { loadStream, qemuRelease, requirePeer } from "@vmstream/peers";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { FIXTURES, decodeText, encodeText, same } from "./qemu-helpers.js";

const R10 = join(FIXTURES, "qemu-releases/10.0");
const FILES = ["pc-10.0-mappedram-m16.mig", "pc-10.0-mappedram-multifd-m16.mig"];
const RAM1M = new Uint8Array(readFileSync(join(FIXTURES, "qemu-releases/ram-1m.bin")));
const load = (name: string): Uint8Array => new Uint8Array(readFileSync(join(R10, name)));
const dir = mkdtempSync(join(tmpdir(), "vmstream-mapped-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(bytes: Uint8Array, op: "recode" | "plain" | "mapped-ram"): Promise<Uint8Array> {
  const sink = new MemorySink();
  if (op === "recode") await qemuCodec.recode(StreamReader.of(bytes), "3", sink, {});
  else await qemuCodec.convert!(StreamReader.of(bytes), "3", { family: "qemu", version: "3" }, sink, { layout: op, reopen: async () => StreamReader.of(bytes) });
  return sink.bytes();
}

/** The WireError `op` (verify, unless named) throws on `bytes`. */
async function fault(bytes: Uint8Array, op: "verify" | "recode" = "verify"): Promise<WireError> {
  try {
    if (op === "verify") await qemuCodec.verify(StreamReader.of(bytes), "3", {});
    else await run(bytes, "recode");
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error(`${op} accepted the bytes`);
}

const be64 = (b: Uint8Array, p: number): number => Number(new DataView(b.buffer, b.byteOffset).getBigUint64(p));

describe.each(FILES)("%s", (name) => {
  const bytes = load(name);
  test("inspect lists the blocks and the pages the bitmaps mark", async () => {
    const s = (await qemuCodec.inspect(StreamReader.of(bytes), "3", {})).json as QemuSummary;
    expect(s.ram.blocks.map((b) => b.name)).toEqual(["pc.ram", "/rom@etc/acpi/tables", "pc.bios", "pc.rom", "/rom@etc/table-loader", "/rom@etc/acpi/rsdp"]);
    expect(s.ram.blocks[0]!.length).toBe(16 << 20);
    // 256 pages of pc.ram (the 1 MiB loader) + 2 + 46 + 0 + 1 + 1, counted from the bitmaps.
    expect(s.ram.pages).toBe(306);
    expect((await qemuCodec.verify(StreamReader.of(bytes), "3", {})).bytes).toBe(bytes.byteLength);
  });

  test("recode and decode -> encode give QEMU's bytes", async () => {
    expect(same(await run(bytes, "recode"), bytes)).toBe(true);
    const text = await decodeText(bytes);
    expect(text).toContain('"mappedBlock": {"name": "pc.ram", "length": "16777216", "version": 1, "pageSize": 4096, "bitmapOffset": "142", "pagesOffset": "1048576"}');
    expect(same(await encodeText(text), bytes)).toBe(true);
  });

  test("to a plain stream and back gives QEMU's bytes", async () => {
    const plain = await run(bytes, "plain");
    expect(plain.byteLength).toBeLessThan(2 << 20);
    const s = (await qemuCodec.inspect(StreamReader.of(plain), "3", {})).json as QemuSummary;
    expect(s.configuration?.subsections ?? []).toEqual([]);
    expect(same(await run(plain, "mapped-ram"), bytes)).toBe(true);
  });
});

test("recode to an output file keeps the holes (sparse, same bytes)", async () => {
  const src = join(R10, FILES[0]!);
  const out = join(dir, "recoded.mig");
  const sink = await atomicFileSink(out);
  await qemuCodec.recode(new StreamReader(await fileSource(src)), "3", sink, {});
  expect(same(new Uint8Array(readFileSync(out)), load(FILES[0]!))).toBe(true);
  const st = statSync(out);
  expect(st.size).toBe(23184804);
  // About 1.3 MB of data in a 23 MB file: holes were left, not zeros written.
  expect(st.blocks * 512).toBeLessThan(4 << 20);
});

describe("faults name their offsets", () => {
  const bytes = load(FILES[0]!);
  // MEM_SIZE word at 0x5b, pc.ram's name at 0x63, length at 0x6a, mapped-ram header at 0x72.
  const HDR = 0x72;
  test("header version", async () => {
    const b = bytes.slice();
    b[HDR + 3] = 2;
    const e = await fault(b);
    expect([e.offset, e.reason]).toEqual([HDR, "unknown mapped-ram header version"]);
  });
  test("page size", async () => {
    const b = bytes.slice();
    b[HDR + 10] = 0x20;
    expect((await fault(b)).offset).toBe(HDR + 4);
  });
  test("pages offset not aligned", async () => {
    const b = bytes.slice();
    b[HDR + 27] = 1;
    const e = await fault(b);
    expect(e.offset).toBe(HDR + 20);
    expect(e.reason).toMatch(/aligned/);
  });
  // QEMU's loader reads a bitmap only up to the block's last page and never
  // reads the gap before the pages, so verify accepts both (the QEMU 10.0
  // test below loads such a file); readers that copy the file (recode,
  // decode) read both and refuse them, naming the offset.
  const strayBit = be64(bytes, 0x1420000 + 1 + 21 + 8 + 12); // /rom@etc/table-loader: 1 page, 8 bytes of bitmap
  test("a bit beyond the block in the bitmap", async () => {
    const b = bytes.slice();
    b[strayBit] = 0x03;
    expect((await qemuCodec.verify(StreamReader.of(b), "3", {})).bytes).toBe(b.byteLength);
    const e = await fault(b, "recode");
    expect([e.offset, e.reason]).toEqual([strayBit, 'mapped-ram bitmap of "/rom@etc/table-loader" marks page 1 beyond the block']);
  });
  test("a non-zero byte before the pages", async () => {
    const b = bytes.slice();
    b[0x80000] = 1;
    expect((await qemuCodec.verify(StreamReader.of(b), "3", {})).bytes).toBe(b.byteLength);
    expect((await fault(b, "recode")).offset).toBe(0x80000);
  });
  test("a file cut inside the pages", async () => {
    const e = await fault(bytes.subarray(0, 0x800000));
    expect(e.reason).toMatch(/run past the end of the file/);
  });
});

// QEMU 10.0, installed side by side (scripts/peers); the system QEMU 7.2 has no mapped-ram.
const have10 = requirePeer("QEMU 10.0", qemuRelease("10.0"));

/** Load `file` into QEMU 10.0 and read guest-physical bytes at 0x400000 and at its last page. */
async function loadAndPeek(file: string, mapped: boolean, mem: number): Promise<{ status: string; first: string; last: string }> {
  // With mapped-ram on, loadStream reads the file through `file:` (QEMU seeks in it), else through `exec:cat`.
  const r = await loadStream("10.0", ["-M", "pc-i440fx-10.0", "-m", String(mem)], file, mapped ? ["mapped-ram"] : [], { keep: true, timeoutMs: 180_000 });
  if (!r.ok) throw new Error(`QEMU 10.0 refused ${file}: ${r.error}`);
  const q = r.monitor;
  try {
    return { status: r.status, first: await q.cmd("xp /4wx 0x400000"), last: await q.cmd("xp /4wx 0x4ffff0") };
  } finally {
    await q.quit();
  }
}

/** What `xp /4wx` prints for 16 bytes of `b` at `off` (little-endian words). */
function words(b: Uint8Array, off: number): string[] {
  const dv = new DataView(b.buffer, b.byteOffset);
  return [0, 4, 8, 12].map((i) => `0x${dv.getUint32(off + i, true).toString(16).padStart(8, "0")}`);
}

describe.skipIf(!have10)("QEMU 10.0 loads the converted files", () => {
  test("mapped-ram -> plain loads, with the guest's RAM", { timeout: 240_000 }, async () => {
    const f = join(dir, "plain.mig");
    writeFileSync(f, await run(load(FILES[1]!), "plain"));
    const r = await loadAndPeek(f, false, 16);
    expect(r.status).toMatch(/paused \(prelaunch\)/);
    for (const w of words(RAM1M, 0)) expect(r.first).toContain(w);
    expect(r.last).toContain(words(RAM1M, 0xffff0).join(" "));
  });
  test("plain (QEMU 10.0's own) -> mapped-ram loads with the capability on, with the guest's RAM", { timeout: 240_000 }, async () => {
    const f = join(dir, "mapped.mig");
    const out = await run(load("pc-10.0-ram1m.mig"), "mapped-ram");
    writeFileSync(f, out);
    const r = await loadAndPeek(f, true, 64);
    expect(r.status).toMatch(/paused \(prelaunch\)/);
    for (const w of words(RAM1M, 0)) expect(r.first).toContain(w);
    // The control: with the bit of page 0x400000 cleared, QEMU leaves that page zero.
    const s = (await qemuCodec.inspect(StreamReader.of(out), "3", {})).json as QemuSummary;
    expect(s.ram.blocks[0]!.name).toBe("pc.ram");
    const hdr = out.indexOf(0x06, 0x50); // "pc.ram" length byte
    const bm = be64(out, hdr + 7 + 8 + 4 + 8);
    const cut = out.slice();
    cut[bm + (0x400 >>> 3)] = 0;
    const g = join(dir, "mapped-cut.mig");
    writeFileSync(g, cut);
    const c = await loadAndPeek(g, true, 64);
    expect(c.first).toContain("0x00000000 0x00000000 0x00000000 0x00000000");
  });
});

describe.skipIf(!have10)("QEMU 10.0 and verify agree", () => {
  test("a stray bitmap bit past a block and a non-zero byte before the pages: QEMU loads the file, verify accepts it", { timeout: 240_000 }, async () => {
    const b = load(FILES[0]!);
    b[be64(b, 0x1420000 + 1 + 21 + 8 + 12)] = 0x03;
    b[0x80000] = 1;
    const f = join(dir, "stray.mig");
    writeFileSync(f, b);
    const r = await loadAndPeek(f, true, 16);
    expect(r.status).toMatch(/paused \(prelaunch\)/);
    for (const w of words(RAM1M, 0)) expect(r.first).toContain(w);
    expect((await qemuCodec.verify(StreamReader.of(b), "3", {})).bytes).toBe(b.byteLength);
  });
});

describe("hostile mapped-ram bytes", () => {
  const bytes = load(FILES[0]!);
  // The structure: header, configuration, MEM_SIZE and pc.ram's header and bitmap; each later block's listing and bitmap; the stream's tail.
  const regions: [number, number][] = [[0, 0x300], [0x1100000, 0x1100100], [0x1220000, 0x1220100], [0x1420000, 0x1420100], [0x1501000, 0x1501100], [0x1601000, bytes.byteLength]];
  const spot = fc.integer({ min: 0, max: regions.length - 1 }).chain((i) => fc.integer({ min: regions[i]![0], max: regions[i]![1] - 1 }));
  fcTest.prop([spot, fc.integer({ min: 0, max: 255 })], propertyParams(60))("a changed byte gives a WireError or a valid stream, never another exception", async (at, v) => {
    // Changed in place and put back (a copy of 23 MB per run costs more than the check).
    const b = bytes;
    const old = b[at]!;
    b[at] = v;
    try {
      await qemuCodec.verify(StreamReader.of(b), "3", {});
    } catch (e) {
      expect(e).toBeInstanceOf(WireError);
      expect((e as WireError).offset).toBeLessThanOrEqual(b.byteLength);
    } finally {
      b[at] = old;
    }
  });
  // Up to the EOF byte: damage after it (in the vmdesc) is a warning, as QEMU's loader ignores it.
  const eof = (() => {
    const v = new DataView(bytes.buffer, bytes.byteOffset);
    // The vmdesc is `0x06, be32 N, N bytes` running to the end: find the N that fits.
    for (let p = bytes.byteLength - 6; p > 0; p--) if (bytes[p] === 0x06 && v.getUint32(p + 1) === bytes.byteLength - p - 5 && bytes[p - 1] === 0) return p - 1;
    throw new Error("no vmdesc");
  })();
  fcTest.prop([fc.integer({ min: 0, max: eof })], propertyParams(40))("a file cut before its EOF gives a WireError", async (n) => {
    await expect(qemuCodec.verify(StreamReader.of(bytes.subarray(0, n)), "3", {})).rejects.toBeInstanceOf(WireError);
  });
});
