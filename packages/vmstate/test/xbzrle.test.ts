/**
 * XBZRLE: the real stream QEMU 10.0 wrote with the xbzrle capability
 * (fixtures/qemu-releases/10.0/pc-10.0-xbzrle.mig, 256 XBZRLE records) is
 * checked record by record and round-trips byte-identically; broken deltas
 * and deltas for pages never sent are typed errors at the record's bytes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { StreamReader, WireError } from "@vmstream/framing";
import { fc, test as fcTest } from "@fast-check/vitest";
import { propertyParams } from "@vmstream/testing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { applyXbzrle, checkXbzrle } from "../src/stream/xbzrle.js";
import { FIXTURES, decodeText, encode, encodeText, recode, same } from "./qemu-helpers.js";

const bytes = new Uint8Array(readFileSync(join(FIXTURES, "qemu-releases/10.0/pc-10.0-xbzrle.mig")));

async function fault(b: Uint8Array): Promise<WireError> {
  try {
    await qemuCodec.verify(StreamReader.of(b), "3", {});
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error("verify accepted the bytes");
}

type Rec = { flags: number; addr: string; block?: string; data?: string; xbzrle?: number };

describe("pc-10.0-xbzrle.mig", () => {
  test("every XBZRLE record is checked; counts as QEMU wrote them", async () => {
    const s = (await qemuCodec.inspect(StreamReader.of(bytes), "3", {})).json as QemuSummary;
    expect(s.ram.xbzrlePages).toBe(256);
    await qemuCodec.verify(StreamReader.of(bytes), "3", {});
  });

  test("recode and decode -> encode are byte-identical", async () => {
    expect(same(await recode(bytes), bytes)).toBe(true);
    expect(same(await encodeText(await decodeText(bytes)), bytes)).toBe(true);
  });

  test("a delta for a page the stream never sent is refused at the record", async () => {
    const doc = JSON.parse(await decodeText(bytes)) as { stream: { ram?: Rec[] }[] };
    // The first XBZRLE record and its page; every earlier record of that page is moved to page 0.
    let block = "";
    let target: { block: string; addr: string } | null = null;
    const earlier: Rec[] = [];
    for (const it of doc.stream) {
      for (const r of it.ram ?? []) {
        if (r.block) block = r.block;
        if (r.flags & 0x40 && !target) target = { block, addr: r.addr };
        if (!target && r.flags & 0x0a) earlier.push(Object.assign(r, { _block: block }));
      }
    }
    expect(target).not.toBeNull();
    expect(target!.addr).not.toBe("0");
    let moved = 0;
    for (const r of earlier as (Rec & { _block: string })[]) {
      if (r._block === target!.block && r.addr === target!.addr) {
        r.addr = "0";
        moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
    const broken = await encode(doc);
    const e = await fault(broken);
    expect(e.reason).toBe(`XBZRLE delta for page 0x${Number(target!.addr).toString(16)} of "${target!.block}", which the stream has not sent before`);
    // The offset names the record's be64 word: its low bits carry the XBZRLE flag.
    expect(broken[e.offset + 7]! & 0x40).toBe(0x40);
  });

  test("a delta whose data run leaves the record is refused at that run", async () => {
    const doc = JSON.parse(await decodeText(bytes)) as { stream: { ram?: Rec[] }[] };
    const mark = [0x00, 0x7f, 0xab, 0xcd, 0xef, 0x12];
    const rec = doc.stream.flatMap((it) => it.ram ?? []).find((r) => r.flags & 0x40)!;
    rec.data = Buffer.from(mark).toString("base64");
    const broken = await encode(doc);
    const at = Buffer.from(broken).indexOf(Buffer.from(mark));
    expect(at).toBeGreaterThan(0);
    const e = await fault(broken);
    expect([e.offset, e.reason]).toEqual([at + 1, "XBZRLE data run goes past the end of the record"]);
  });

  test("a bad encoding byte is refused at it", async () => {
    const doc = JSON.parse(await decodeText(bytes)) as { stream: { ram?: Rec[] }[] };
    const rec = doc.stream.flatMap((it) => it.ram ?? []).find((r) => r.flags & 0x40)!;
    const mark = [0x00, 0x03, 0x5a, 0xa5, 0x3c];
    rec.data = Buffer.from(mark).toString("base64");
    rec.xbzrle = 2;
    const broken = await encode(doc);
    const at = Buffer.from(broken).indexOf(Buffer.from(mark));
    const e = await fault(broken);
    expect([e.offset, e.code]).toEqual([at - 3, "MALFORMED"]);
  });
});

describe("XBZRLE runs", () => {
  const err = (src: number[], n = 16): string => {
    try {
      checkXbzrle(new Uint8Array(src), n, 100);
      return "ok";
    } catch (e) {
      return `${(e as WireError).offset}: ${(e as WireError).reason}`;
    }
  };
  test.each([
    [[0x00, 0x02, 1, 2], "ok"],
    [[0x0e, 0x02, 1, 2], "ok"],
    [[0x0f, 0x02, 1, 2], "101: XBZRLE data run goes past the end of the page"],
    [[0x11, 0x01, 1], "100: XBZRLE unchanged run goes past the end of the page"],
    [[0x00, 0x02, 1, 2, 0x00, 0x01, 3], "104: XBZRLE unchanged run of length 0 after the first"],
    [[0x00, 0x00, 0x00], "101: XBZRLE data run of length 0"],
    [[0x00, 0x01, 7, 0x01], "103: XBZRLE run truncated"],
    [[0x80, 0x80, 0x01, 0x01], "100: XBZRLE run length longer than 2 bytes"],
    [[0x00, 0x05, 1, 2], "101: XBZRLE data run goes past the end of the record"],
  ])("%j -> %s", (src, want) => expect(err(src)).toBe(want));

  // Any page pair: the delta QEMU's encoder would write (runs of equal / different bytes) applies to the old page and gives the new one.
  fcTest.prop([fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.array(fc.nat(63), { maxLength: 20 })], propertyParams())("encode-like deltas apply", (old, changes) => {
    const now = old.slice();
    for (const c of changes) now[c] = (now[c]! + 1) & 0xff;
    const delta: number[] = [];
    let i = 0;
    while (i < 64) {
      let z = 0;
      while (i + z < 64 && old[i + z] === now[i + z]) z++;
      if (i + z === 64) break;
      let n = 0;
      while (i + z + n < 64 && old[i + z + n] !== now[i + z + n]) n++;
      delta.push(z, n, ...now.subarray(i + z, i + z + n));
      i += z + n;
    }
    const page = old.slice();
    checkXbzrle(new Uint8Array(delta), 64, 0);
    applyXbzrle(new Uint8Array(delta), page);
    expect(same(page, now)).toBe(true);
  });
});
