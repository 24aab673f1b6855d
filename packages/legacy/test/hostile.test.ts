import { describe, expect, test } from "vitest";
import { MemorySink, StreamReader, WireError, type Source } from "@vmstream/framing";
import { legacyCodec, walkLegacy } from "../src/index.js";
import { LIBXC, LIBXL, fixture } from "./helpers.js";

/** Little-endian builder for hand-made hostile images. */
class B {
  private a: number[] = [];
  u32(...v: number[]) {
    for (const x of v) for (let i = 0; i < 4; i++) this.a.push((x >>> (8 * i)) & 0xff);
    return this;
  }
  i32(v: number) {
    return this.u32(v >>> 0);
  }
  u64(v: bigint) {
    for (let i = 0n; i < 8n; i++) this.a.push(Number((v >> (8n * i)) & 0xffn));
    return this;
  }
  text(s: string) {
    for (const c of s) this.a.push(c.charCodeAt(0));
    return this;
  }
  zeros(n: number) {
    for (let i = 0; i < n; i++) this.a.push(0);
    return this;
  }
  get bytes() {
    return Uint8Array.from(this.a);
  }
}

/**
 * A pipe-like source (no size, no seek) that records the largest read it is
 * asked for: the reader reads into its own buffer, so a buffer grown from a
 * hostile length would show up here.
 */
function probe(bytes: Uint8Array) {
  let pos = 0;
  const seen = { largest: 0 };
  const src: Source = {
    async read(into) {
      seen.largest = Math.max(seen.largest, into.byteLength);
      const n = Math.min(into.byteLength, bytes.length - pos, 4096);
      into.set(bytes.subarray(pos, pos + n));
      pos += n;
      return n;
    },
  };
  return { reader: new StreamReader(src, { chunkSize: 4096 }), seen };
}

async function fault(bytes: Uint8Array, op: "verify" | "libxc" | "libxl" = "verify", opts: { width?: 32 | 64; guest?: "pv" | "hvm" } = {}) {
  const { reader, seen } = probe(bytes);
  const sink = new MemorySink();
  const run =
    op === "verify" ? legacyCodec.verify(reader, "64", opts) : legacyCodec.convert!(reader, "64", op === "libxc" ? LIBXC : LIBXL, sink, opts);
  const e = await run.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(WireError);
  // Nothing was sized by the bad number: reads stay within the reader's own chunk.
  expect(seen.largest).toBeLessThanOrEqual(64 << 10);
  return e as WireError;
}

const tsc = (b: B) => b.i32(-7).u32(0).u64(0n).u32(2_000_000, 0);

describe("hostile legacy input is refused at once, with its offset", () => {
  test("p2m_size 0xffffffff00010000 read as a 64-bit image", async () => {
    const bytes = new B().u64(0xffff_ffff_0001_0000n).zeros(64).bytes;
    // Octets 4–7 are all ones: the bytes say 32-bit PV, so -w 64 contradicts them.
    const e = await fault(bytes, "libxc", { width: 64 });
    expect([e.code, e.offset]).toEqual(["REFUSED", 4]);
    // Forced through the walker as 64-bit, the size itself is refused at offset 0.
    const w = walkLegacy(StreamReader.of(bytes), { width: 64, guest: "hvm", start: 0, xl: false });
    const e2 = await w.next().then(() => null, (x: unknown) => x as WireError);
    expect([e2?.code, e2?.offset]).toEqual(["LIMIT_EXCEEDED", 0]);
    // Without flags it is a 32-bit PV image with a bad extended-info block.
    const e3 = await fault(bytes);
    expect(e3.offset).toBeLessThan(bytes.length);
  });

  test("a page batch of 0x7fffffff pages", async () => {
    const e = await fault(tsc(new B().u64(0x100n)).i32(0x7fff_ffff).zeros(32).bytes);
    expect([e.code, e.offset]).toEqual(["LIMIT_EXCEEDED", 32]);
  });

  test("a page batch of 1025 pages", async () => {
    const e = await fault(tsc(new B().u32(0x100)).i32(1025).zeros(32).bytes);
    expect([e.code, e.offset]).toEqual(["LIMIT_EXCEEDED", 28]);
  });

  test("vcpu ids over 4095 and negative ones", async () => {
    const big = await fault(tsc(new B().u64(0x100n)).i32(-2).i32(0x7fff_ffff).zeros(64).bytes);
    expect([big.code, big.offset]).toEqual(["LIMIT_EXCEEDED", 36]);
    const over = await fault(tsc(new B().u64(0x100n)).i32(-2).i32(4096).zeros(64).bytes);
    expect([over.code, over.offset]).toEqual(["LIMIT_EXCEEDED", 36]);
    const neg = await fault(tsc(new B().u64(0x100n)).i32(-2).i32(-5).zeros(64).bytes);
    expect([neg.code, neg.offset]).toEqual(["MALFORMED", 36]);
  });

  test("a 4 GiB toolstack blob, HVM context and QEMU record in a short stream", async () => {
    const ts = await fault(tsc(new B().u64(0x100n)).i32(-18).u32(0xffff_fff0).zeros(40).bytes, "libxl");
    // Toolstack blobs are a few hundred bytes; a 4 GiB one is refused at its size field.
    expect([ts.code, ts.offset]).toEqual(["LIMIT_EXCEEDED", 36]);
    // An empty body, then the tail: three pfns, the context length, Xen's HVM save HEADER.
    const header = (b: B) => b.u32(1, 24, 0x5438_1286, 1).zeros(16);
    const ctxBytes = header(new B().u64(0x100n).i32(0).zeros(24).u32(0xffff_fff0)).zeros(40).bytes;
    // The converter refuses a context beyond libxc's 128 MiB record limit at its length field…
    const ctx = await fault(ctxBytes, "libxc");
    expect([ctx.code, ctx.offset]).toEqual(["LIMIT_EXCEEDED", 36]);
    // …and the reader finds the bytes missing where the context starts.
    const ctxv = await fault(ctxBytes);
    expect([ctxv.code, ctxv.offset]).toEqual(["TRUNCATED", 40]);
    const qBytes = header(new B().u64(0x100n).i32(0).zeros(24).u32(32)).text("DeviceModelRecord0002").u32(0xffff_ffff).zeros(8).bytes;
    // 8 + 0xffffffff cannot be an EMULATOR_CONTEXT body length.
    const q = await fault(qBytes, "libxl");
    expect([q.code, q.offset]).toEqual(["LIMIT_EXCEEDED", 93]);
    const qv = await fault(qBytes);
    expect([qv.code, qv.offset]).toEqual(["TRUNCATED", 97]);
  });

  test("PV extended info longer than the stream, and unknown blocks", async () => {
    const longBytes = new B().u64(0x800n).u64(0xffff_ffff_ffff_ffffn).u32(0x7fff_ffff).text("vcpu").u32(0x1430).zeros(16).bytes;
    // Through a pipe the shortfall shows where the vcpu block's data runs out…
    const long = await fault(longBytes);
    expect([long.code, long.offset]).toEqual(["TRUNCATED", 28]);
    // …and with a known size, at the length field itself.
    const known = await legacyCodec.verify(StreamReader.of(longBytes), "64", {}).catch((x: unknown) => x as WireError);
    expect([(known as WireError).code, (known as WireError).offset]).toEqual(["TRUNCATED", 16]);
    const odd = await fault(new B().u64(0x800n).u64(0xffff_ffff_ffff_ffffn).u32(8).text("vcpu").u32(0x1000).zeros(64).bytes);
    expect([odd.code, odd.offset]).toEqual(["MALFORMED", 24]);
  });

  test("malformed batches: reserved types, duplicates, high bits", async () => {
    const pages = new Uint8Array(8192);
    const typ5 = new B().u32(0x100).i32(1).u32(0x5000_0001).bytes;
    expect((await fault(typ5)).offset).toBe(8);
    const dup = new B().u32(0x100).i32(2).u32(7, 7).bytes;
    const d = await fault(Uint8Array.from([...dup, ...pages]));
    expect([d.code, d.offset]).toEqual(["MALFORMED", 12]);
    const high = new B().u64(0x100n).i32(1).u64(0x1_0000_0007n).bytes;
    expect((await fault(high)).offset).toBe(16);
  });

  test("chunk ids the format never had, tmem, HVM params in a PV image", async () => {
    const unknown = await fault(tsc(new B().u64(0x100n)).i32(-21).zeros(16).bytes);
    expect([unknown.code, unknown.offset]).toEqual(["MALFORMED", 32]);
    const tmem = await fault(tsc(new B().u64(0x100n)).i32(-5).zeros(16).bytes);
    expect([tmem.code, tmem.offset]).toEqual(["REFUSED", 32]);
    const pv = fixture("legacy_pv_64.bin");
    // Splice an hvm_console_pfn chunk in front of the PV image's first chunk (after header, ext info and frames).
    const first = 8 + 8 + 4 + (8 + 0x1430) + 8 + 8 * 4;
    const bad = Uint8Array.from([...pv.subarray(0, first), ...new B().i32(-8).u32(0).u64(0xfdn).bytes, ...pv.subarray(first)]);
    const e = await fault(bad);
    expect([e.code, e.offset]).toEqual(["MALFORMED", first]);
  });

  test("an unknown QEMU signature and bytes after the image", async () => {
    const hvm = fixture("legacy_hvm_64.bin");
    const qAt = hvm.length - 21 - 4 - 30;
    const sig = hvm.slice();
    sig[qAt] = 0x58;
    const e = await fault(sig);
    expect([e.code, e.offset]).toEqual(["MALFORMED", qAt]);
    const trailing = Uint8Array.from([...fixture("legacy_pv_32.bin"), 0]);
    const t = await fault(trailing, "libxc");
    expect([t.code, t.offset]).toEqual(["TRAILING_BYTES", trailing.length - 1]);
  });

  test("compressed (Remus format B) images are read but not converted", async () => {
    const bytes = new B().u64(0x100n).i32(-13).i32(0).zeros(24).u32(40).bytes;
    const ctx = fixture("legacy_tiny_hvm_64.bin").subarray(0x89, 0x89 + 40);
    const img = Uint8Array.from([...bytes, ...ctx]);
    await expect(legacyCodec.verify(StreamReader.of(img), "64", {})).resolves.toMatchObject({ format: "legacy@64" });
    const e = await fault(img, "libxc");
    expect([e.code, e.offset]).toEqual(["REFUSED", 8]);
  });
});

describe("repetition stays bounded", () => {
  test("100 000 marker chunks and filler-only batches: inspect lists 10 000, convert notes once", async () => {
    const b = new B().u64(0x100n);
    for (let i = 0; i < 50_000; i++) b.i32(-9).i32(1).u64(0xf000_0000n);
    const header = (x: B) => x.u32(1, 24, 0x5438_1286, 1).zeros(16);
    const bytes = Uint8Array.from([...header(b.i32(0).zeros(24).u32(40)).zeros(8).bytes]);
    const ins = await legacyCodec.inspect(StreamReader.of(bytes), "64", {});
    const j = ins.json as { chunks: unknown[]; chunks_total: number };
    expect(j.chunks.length).toBe(10_000);
    expect(j.chunks_total).toBe(100_001);
    const notes: string[] = [];
    await legacyCodec.convert!(StreamReader.of(bytes), "64", LIBXC, new MemorySink(), { onNote: (m: string) => notes.push(m) });
    expect(notes.filter((n) => n.includes("filler"))).toEqual(["50000 page batch(es) held only filler entries (0xf0000000): no PAGE_DATA written for them"]);
    expect(notes.filter((n) => n.includes("last_checkpoint"))).toEqual(["50000 last_checkpoint chunk(s) not carried (no v2 equivalent)"]);
  });
});
