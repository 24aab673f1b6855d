import { createHash } from "node:crypto";
import { ByteWriter, MemorySink, RefusedError, StreamReader, WireError, isWireError } from "@vmstream/framing";
import { describe, expect, test } from "vitest";
import {
  type LibxcRecord,
  libxcCodec,
  libxlCodec,
  verifyLibxc,
  writeLibxcHeader,
  writeLibxcRecord,
  writeLibxlHeader,
  writeLibxlRecord,
  xlCodec,
  xlHeaderBytes,
  xlSaveHeader,
} from "../src/index.js";
import { collect, fixture, fixtureNames, pipeReader, roundTrip, sinkOf } from "./helpers.js";

const codecs = [libxcCodec, libxlCodec, xlCodec];
const detect = (b: Uint8Array) => codecs.flatMap((c) => (c.detect(b.subarray(0, 4096)) ? [`${c.family}@${c.detect(b.subarray(0, 4096))}`] : []));

/** What each fixture is, by how it was made (shared/tools/xenpeer/build_all.py, convert-legacy-stream -f). */
const KIND: Record<string, string> = {
  "libxc_hvm_v2.bin": "libxc@2",
  "libxc_hvm_v3.bin": "libxc@3",
  "libxc_one_page_v3.bin": "libxc@3",
  "libxc_pv64_v3.bin": "libxc@3",
  "libxc_tiny_v3.bin": "libxc@3",
  "libxl_hvm_noxs.bin": "libxl@2",
  "libxl_hvm_xs.bin": "libxl@2",
  "libxl_hvm_xs_empty.bin": "libxl@2",
  "libxl_tiny.bin": "libxl@2",
  "remus_like.bin": "libxl@2",
  "xl_hvm.bin": "xl@1",
  "xl_tiny.bin": "xl@1",
  "conv_wrongw.bin": "libxc@3",
  "conv_pv_32t64g.bin": "libxl@2",
};
const kindOf = (f: string) => KIND[f] ?? (f.includes("libxc") ? "libxc@3" : f.includes("libxl") ? "libxl@2" : "none");
const codecOf = (k: string) => codecs.find((c) => c.family === k.split("@")[0])!;

describe("every fixture", () => {
  for (const f of fixtureNames().filter((n) => !n.startsWith("legacy"))) {
    const kind = kindOf(f);
    test(`${f}: detected as ${kind}, verified, byte-identical through recode and decode → encode`, async () => {
      const b = fixture(f);
      expect(detect(b)).toEqual([kind]);
      const c = codecOf(kind);
      const v = kind.split("@")[1]!;
      const rep = await c.verify(StreamReader.of(b), v, {});
      expect(rep.bytes).toBe(b.byteLength);
      // A pipe in 7-byte pieces, no seeking: same verdict.
      await expect(c.verify(pipeReader(b), v, {})).resolves.toMatchObject({ bytes: b.byteLength });
      const { recoded, piped, doc, encoded } = await roundTrip(c, b, v);
      expect(Buffer.from(recoded).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(piped).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(encoded).equals(Buffer.from(b))).toBe(true);
      expect(Object.keys(JSON.parse(doc))[0]).toBe("format");
      expect(JSON.parse(doc).format).toBe(kind);
    });
  }
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const HVM_BLOB = Uint8Array.from(Buffer.from("0100000018000000861238540100000000000000000000000000000080841e000000000000000000", "hex"));

/** research/xen.md §12 V1, written with our writer from its description. */
function v1Bytes(): ByteWriter {
  const w = new ByteWriter();
  writeLibxcHeader(w, { version: 3, domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 17 });
  const recs: LibxcRecord[] = [
    { type: "STATIC_DATA_END" },
    { type: "PAGE_DATA", pages: [{ pfn: 0x100, type: "XTAB" }], data: new Uint8Array(0) },
    { type: "X86_TSC_INFO", mode: 0, khz: 2000000, nsec: 0n, incarnation: 0 },
    { type: "HVM_PARAMS", params: [{ index: 1n, value: 0xfeffcn }] },
    { type: "HVM_CONTEXT", data: HVM_BLOB },
    { type: "END" },
  ];
  for (const r of recs) writeLibxcRecord(w, r);
  return w;
}

describe("golden vectors (research/xen.md §12)", () => {
  test("V1: the minimal libxc v3 HVM stream, from the writer API", () => {
    const mine = v1Bytes().finish();
    expect(sha(fixture("libxc_tiny_v3.bin")).startsWith("2adcb993303b7a97")).toBe(true);
    expect(Buffer.from(mine).equals(Buffer.from(fixture("libxc_tiny_v3.bin")))).toBe(true);
  });

  test("V3 and V4: libxl and xl framing around V1", () => {
    const w = new ByteWriter();
    writeLibxlHeader(w);
    writeLibxlRecord(w, { type: "LIBXC_CONTEXT" });
    w.bytes(v1Bytes().finish());
    writeLibxlRecord(w, { type: "EMULATOR_CONTEXT", emulator_id: 2, index: 0, data: new TextEncoder().encode("QEVM") });
    writeLibxlRecord(w, { type: "END" });
    const v3 = w.finish().slice();
    expect(sha(fixture("libxl_tiny.bin")).startsWith("db8d779458254eb2")).toBe(true);
    expect(Buffer.from(v3).equals(Buffer.from(fixture("libxl_tiny.bin")))).toBe(true);
    const h = xlHeaderBytes({ ...xlSaveHeader(null), config: null });
    expect(sha(fixture("xl_tiny.bin")).startsWith("9eec146358cdb6b9")).toBe(true);
    expect(Buffer.from([...h, ...v3]).equals(Buffer.from(fixture("xl_tiny.bin")))).toBe(true);
  });

  test("V1 decodes to the records research/xen.md describes", async () => {
    const doc = JSON.parse(await collect(libxcCodec.decode(StreamReader.of(fixture("libxc_tiny_v3.bin")), "3", {})));
    expect(doc).toMatchObject({ format: "libxc@3", domain_type: 2, page_shift: 12, xen_major: 4, xen_minor: 17 });
    expect(doc.records.map((r: { type: string }) => r.type)).toEqual(["STATIC_DATA_END", "PAGE_DATA", "X86_TSC_INFO", "HVM_PARAMS", "HVM_CONTEXT", "END"]);
    expect(doc.records[1]).toEqual({ type: "PAGE_DATA", pages: [{ pfn: 256, type: "XTAB" }], data: "" });
    expect(doc.records[2]).toEqual({ type: "X86_TSC_INFO", mode: 0, khz: 2000000, nsec: "0", incarnation: 0 });
    expect(doc.records[3]).toEqual({ type: "HVM_PARAMS", params: [{ index: "1", value: String(0xfeffc) }] });
  });
});

describe("libxl and xl specifics", () => {
  test("xenstore keys decode in order; __proto__ stays a key; duplicates keep their order", async () => {
    const doc = JSON.parse(await collect(libxlCodec.decode(StreamReader.of(fixture("libxl_hvm_xs.bin")), "2", {})));
    const xs = doc.records.find((r: { type?: string }) => r.type === "EMULATOR_XENSTORE_DATA");
    expect(Object.entries(xs.xenstore)).toEqual([
      ["physmap/f0000000/start_addr", "f0000000"],
      ["physmap/f0000000/size", "800000"],
      ["physmap/f0000000/name", "vga.vram"],
    ]);
    for (const entries of [
      [["__proto__", "x"], ["a", "1"]],
      [["k", "1"], ["k", "2"]],
      [["7", "seven"], ["a", "b"]],
    ] as Array<Array<[string, string]>>) {
      const w = new ByteWriter();
      writeLibxlHeader(w);
      writeLibxlRecord(w, { type: "EMULATOR_XENSTORE_DATA", emulator_id: 2, index: 0, entries });
      writeLibxlRecord(w, { type: "END" });
      const b = w.finish().slice();
      const text = await collect(libxlCodec.decode(StreamReader.of(b), "2", {}));
      const rec = JSON.parse(text).records[0];
      const pairs = rec.xenstore ? Object.keys(rec.xenstore).map((k) => [k, rec.xenstore[k]]) : rec.xenstore_entries;
      expect(pairs).toEqual(entries);
      expect(({} as Record<string, unknown>).x).toBeUndefined();
      const back = await sinkOf((s) => libxlCodec.encode(JSON.parse(text), s, {}));
      expect(Buffer.from(back).equals(Buffer.from(b))).toBe(true);
    }
  });

  test("a xenstore key outside the protocol's characters is refused at its offset", async () => {
    const w = new ByteWriter();
    writeLibxlHeader(w);
    writeLibxlRecord(w, { type: "EMULATOR_XENSTORE_DATA", emulator_id: 2, index: 0, entries: [["ok/key", "1"], ["bad key", "2"]] });
    writeLibxlRecord(w, { type: "END" });
    const e = await libxlCodec.verify(StreamReader.of(w.finish().slice()), "2", {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WireError);
    // header 16 + record header 8 + emulator header 8 + "ok/key\0" "1\0"
    expect((e as WireError).offset).toBe(16 + 8 + 8 + 7 + 2);
  });

  test("a Remus stream: two checkpoints, the end after CHECKPOINT_END is a failover point", async () => {
    const b = fixture("remus_like.bin");
    const rep = await libxlCodec.verify(StreamReader.of(b), "2", {});
    expect(rep.notes.join("\n")).toMatch(/ends after a checkpoint/);
    const ins = await libxlCodec.inspect(StreamReader.of(b), "2", {});
    expect(ins.json).toMatchObject({ domain_type: "x86 HVM", page_size: 4096, page_records: 2, data_pages: 2 });
    // Cut inside the second checkpoint: no longer a clean end.
    await expect(libxlCodec.verify(StreamReader.of(b.subarray(0, 0x2108)), "2", {})).rejects.toMatchObject({ code: "TRUNCATED" });
  });

  test("an xl file carrying a legacy stream is not claimed, and refused when forced", async () => {
    const b = fixture("legacy_xl_hvm_64.bin");
    expect(xlCodec.detect(b.subarray(0, 4096))).toBeNull();
    const e = await xlCodec.verify(StreamReader.of(b), "1", {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as WireError).message).toMatch(/legacy/);
    await expect(collect(xlCodec.decode(StreamReader.of(b), "1", {}))).rejects.toBeInstanceOf(RefusedError);
  });

  test("xl optional data that is not xl's own JSON survives decode → encode; a JSON flag over non-JSON is refused", async () => {
    const tail = fixture("xl_tiny.bin").subarray(48);
    const withHeader = (flags: number, config: Uint8Array, extra: Uint8Array) =>
      Uint8Array.from([...xlHeaderBytes({ mandatoryFlags: flags, optionalFlags: 0, config, extra }), ...tail]);
    const odd = withHeader(2, new TextEncoder().encode("abc"), Uint8Array.of(1, 2, 3));
    const doc = JSON.parse(await collect(xlCodec.decode(StreamReader.of(odd), "1", {})));
    expect(doc).toMatchObject({ config_base64: "YWJj", optional_extra: "AQID" });
    const back = await sinkOf((s) => xlCodec.encode(doc, s, {}));
    expect(Buffer.from(back).equals(Buffer.from(odd))).toBe(true);
    const bad = withHeader(3, new TextEncoder().encode("{not json\0"), new Uint8Array(0));
    await expect(xlCodec.verify(StreamReader.of(bad), "1", {})).rejects.toMatchObject({ offset: 52, path: "xl.config" });
  });

  test("xl config survives decode → encode (JSON text with its NUL)", async () => {
    const doc = JSON.parse(await collect(xlCodec.decode(StreamReader.of(fixture("xl_hvm.bin")), "1", {})));
    expect(doc.mandatory_flags).toBe(3);
    expect(JSON.parse(doc.config)).toEqual({ c_info: { type: "hvm", name: "peer" } });
  });
});

describe("convert libxc 2 ↔ 3", () => {
  const v2 = fixture("libxc_hvm_v2.bin");
  /** The v2 image with version 3 and STATIC_DATA_END before its first PAGE_DATA (offset 40), by hand. */
  const expected3 = (() => {
    const out = new Uint8Array(v2.byteLength + 8);
    out.set(v2.subarray(0, 40));
    out[15] = 3;
    out.set([0x10, 0, 0, 0, 0, 0, 0, 0], 40);
    out.set(v2.subarray(40), 48);
    return out;
  })();

  test("2 → 3 inserts STATIC_DATA_END at the inference point; 3 → 2 gives the original back", async () => {
    const up = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v2), "2", { family: "libxc", version: "3" }, s, {}));
    expect(Buffer.from(up).equals(Buffer.from(expected3))).toBe(true);
    await verifyLibxc(StreamReader.of(up));
    const down = await sinkOf((s) => libxcCodec.convert!(StreamReader.of(up), "3", { family: "libxc", version: "2" }, s, {}));
    expect(Buffer.from(down).equals(Buffer.from(v2))).toBe(true);
  });

  test("3 → 2 is refused when the CPU policy would be lost", async () => {
    const e = await libxcCodec
      .convert!(StreamReader.of(fixture("libxc_hvm_v3.bin")), "3", { family: "libxc", version: "2" }, new MemorySink(), {})
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as WireError).message).toMatch(/X86_CPUID_POLICY/);
    expect((e as WireError).offset).toBe(40);
  });
});

describe("faults name the offset", () => {
  const H3 = fixture("libxc_tiny_v3.bin").subarray(0, 48); // headers + STATIC_DATA_END
  const rec = (type: number, body: number[]) => {
    const b = new Uint8Array(8 + body.length + ((8 - (body.length % 8)) % 8));
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, body.length, true);
    b.set(body, 8);
    return b;
  };
  const stream = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  const fault = async (b: Uint8Array) => {
    const e = await verifyLibxc(StreamReader.of(b)).catch((x: unknown) => x);
    expect(isWireError(e)).toBe(true);
    return e as WireError;
  };

  test("reserved page type: the pfn entry's offset", async () => {
    const e = await fault(stream(H3, rec(1, [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x50, ...new Array(4096).fill(0)])));
    expect(e.offset).toBe(48 + 8 + 8);
    expect(e.path).toMatch(/pfn\[0\]/);
  });

  // Verify of an HVM stream sums a record's data pages from two bytes per entry and runs the full checks only on
  // doubt: each reserved bit and each reserved type in a later entry must still be named at that entry.
  test("reserved bits 52–59 and reserved types in a later pfn entry: named at that entry", async () => {
    const entry = (pfn: number, hiTop: number, hi6 = 0) => [pfn, 0, 0, 0, 0, 0, hi6, hiTop];
    const body = (second: number[]) => [3, 0, 0, 0, 0, 0, 0, 0, ...entry(1, 0), ...second, ...entry(3, 0), ...new Array(3 * 4096).fill(0)];
    for (let bit = 52; bit <= 59; bit++) {
      const e = await fault(stream(H3, rec(1, body(bit < 56 ? entry(2, 0, 1 << (bit - 48)) : entry(2, 1 << (bit - 56))))));
      expect([e.code, e.offset, e.path], `bit ${bit}`).toEqual(["RESERVED_BITS", 48 + 8 + 8 + 8, "record[1](PAGE_DATA).pfn[1]"]);
    }
    for (const nib of [5, 6, 7, 8]) {
      const e = await fault(stream(H3, rec(1, body(entry(2, nib << 4)))));
      expect([e.code, e.offset], `type ${nib}`).toEqual(["MALFORMED", 48 + 8 + 8 + 8]);
    }
    // An XTAB entry (type 0xf) carries no page: the length must count two pages, not three.
    const e = await fault(stream(H3, rec(1, body(entry(2, 0xf0)))));
    expect(e.message).toMatch(/PAGE_DATA length does not match its 2 data-bearing/);
  });

  test("a body over 128 MiB: refused at its length field, nothing allocated", async () => {
    const h = new Uint8Array(8);
    new DataView(h.buffer).setUint32(0, 9, true);
    new DataView(h.buffer).setUint32(4, (128 << 20) + 1, true);
    const e = await fault(stream(H3, h));
    expect(e.code).toBe("LIMIT_EXCEEDED");
    expect(e.offset).toBe(52);
  });

  test("a huge PAGE_DATA count in a short body is refused before reading pfns", async () => {
    const e = await fault(stream(H3, rec(1, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xf0])));
    expect(e.offset).toBe(56);
    expect(e.message).toMatch(/count/);
  });

  test("truncation inside page contents names where the record's data starts", async () => {
    const one = fixture("libxc_one_page_v3.bin");
    const e = await fault(one.subarray(0, 1000));
    expect(e.code).toBe("TRUNCATED");
    expect(e.offset).toBe(72);
  });

  test("inspect of a damaged stream throws the fault with what was understood attached", async () => {
    const b = fixture("libxc_hvm_v3.bin");
    const e = await libxcCodec.inspect(StreamReader.of(b.subarray(0, b.byteLength - 8)), "3", {}).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WireError);
    const partial = (e as { partial?: { text: string } }).partial!;
    expect(partial.text).toMatch(/x86 HVM/);
    expect(partial.text).toMatch(/HVM_CONTEXT/);
  });

  test("inspect summarises domain, page size, records and page totals", async () => {
    const ins = await libxcCodec.inspect(StreamReader.of(fixture("libxc_hvm_v3.bin")), "3", {});
    expect(ins.json).toMatchObject({ format: "libxc@3", domain_type: "x86 HVM", page_size: 4096, page_records: 2, pfns: 5, data_pages: 4 });
    expect(ins.text).toMatch(/PAGE_DATA ×2: 5 pfn\(s\), 4 page\(s\) of data/);
  });
});
