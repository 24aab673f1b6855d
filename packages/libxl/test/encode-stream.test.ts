import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { type FamilyCodec, MemorySink, type Sink, type Source, StreamReader, WireError, toBase64 } from "@vmstream/framing";
import { contextCodec, libxcCodec, libxlCodec, xlCodec } from "../src/index.js";
import { collect, fixture, fixtureNames, pipeReader } from "./helpers.js";

const te = new TextEncoder();
const CODECS: FamilyCodec[] = [libxcCodec, libxlCodec, xlCodec, contextCodec];
const CONTEXT = join(import.meta.dirname, "../../../fixtures/context");

/** Every real stream of a family this package encodes, with its codec and version. */
function cases(): { name: string; bytes: Uint8Array; codec: FamilyCodec; version: string }[] {
  const out = [];
  const all = [
    ...fixtureNames().map((n) => ({ name: n, bytes: fixture(n) })),
    ...readdirSync(CONTEXT)
      .filter((n) => n.endsWith(".bin"))
      .map((n) => ({ name: n, bytes: new Uint8Array(readFileSync(join(CONTEXT, n))) })),
  ];
  for (const f of all) {
    for (const codec of CODECS) {
      const version = codec.detect(f.bytes.subarray(0, 4096));
      if (version) {
        out.push({ ...f, codec, version });
        break;
      }
    }
  }
  return out;
}

async function encodeText(codec: FamilyCodec, text: Uint8Array, piece: number): Promise<{ bytes: Uint8Array; sink: MemorySink }> {
  const sink = new MemorySink();
  await codec.encodeStream!(pipeReader(text, piece), sink, {});
  return { bytes: sink.bytes(), sink };
}

describe("encodeStream of every Xen family", () => {
  const all = cases();

  it("covers libxc, libxl, xl and context fixtures", () => {
    expect(new Set(all.map((c) => c.codec.family))).toEqual(new Set(["libxc", "libxl", "xl", "context"]));
  });

  it("decode → encodeStream gives the real stream back, byte for byte, whatever the text's pieces", async () => {
    for (const c of all) {
      const doc = te.encode(await collect(c.codec.decode(StreamReader.of(c.bytes), c.version, {})));
      for (const piece of [1 << 20, 61]) {
        const { bytes } = await encodeText(c.codec, doc, piece);
        expect(Buffer.from(bytes).equals(Buffer.from(c.bytes)), `${c.name} (${piece})`).toBe(true);
      }
    }
  });

  test.prop([fc.nat(), fc.integer({ min: 1, max: 97 })], { numRuns: 40 })(
    "a document cut anywhere fails with an offset inside the text it had",
    async (cut, piece) => {
      const c = all[cut % all.length]!;
      const doc = te.encode(await collect(c.codec.decode(StreamReader.of(c.bytes), c.version, {})));
      // Cut inside the JSON text: without only its closing newline the document is whole, and encodes.
      let end = doc.byteLength;
      while (end > 0 && doc[end - 1] === 0x0a) end--;
      const k = cut % end;
      const sink = new MemorySink();
      const out: Sink = { write: (b) => sink.write(b), close: () => sink.close(), abort: () => sink.abort() };
      let err: unknown = null;
      try {
        await c.codec.encodeStream!(pipeReader(doc.subarray(0, k), piece), out, {});
      } catch (e) {
        err = e;
      }
      expect(err, `${c.name} cut at ${k}`).toBeInstanceOf(WireError);
      expect((err as WireError).offset).toBeLessThanOrEqual(k);
    },
  );

  it("a bad field is reported at its record's offset in the document, naming the field", async () => {
    const c = all.find((x) => x.name === "libxc_pv64_v3.bin")!;
    const text = await collect(c.codec.decode(StreamReader.of(c.bytes), c.version, {}));
    const bad = text.replace('"vcpu_id":0', '"vcpu_id":-1');
    expect(bad).not.toBe(text);
    const at = te.encode(bad.slice(0, bad.lastIndexOf("{", bad.indexOf('"vcpu_id":-1')))).byteLength;
    const e = await encodeText(c.codec, te.encode(bad), 1 << 16).then(
      () => null,
      (x: unknown) => x as WireError,
    );
    expect(e).toBeInstanceOf(WireError);
    expect(e!.offset).toBe(at);
    expect(e!.message).toMatch(/records\[\d+\]\.vcpu_id/);
  });
});

/**
 * Issue 21's failure: a libxc document whose page data is longer than V8's
 * longest string (0x1fffffe8 characters) must encode by streaming. The
 * document's text is made on the fly from a pattern (about 640 MB, never
 * held), fed to encodeStream, and the output only hashed; the expected hash
 * comes from writing the same bytes independently.
 */
describe("a libxc document larger than a JavaScript string", () => {
  const PAGES = 1024;
  const RECORDS = 118; // 118 × 1024 pages × 4096 bytes ≈ 495 MB of pages, ≈ 660 MB of base64
  const page = (r: number, p: number): Uint8Array => {
    const b = new Uint8Array(4096);
    new DataView(b.buffer).setUint32(0, r * PAGES + p, true);
    b.fill((r + p) & 255, 4);
    return b;
  };

  /** The document's text, piece by piece (one record at a time). */
  function* documentText(): Generator<Uint8Array> {
    yield te.encode('{"format":"libxc@3","domain_type":2,"page_shift":12,"xen_major":4,"xen_minor":17,\n"records": [');
    const rec = new Uint8Array(PAGES * 4096);
    for (let r = 0; r < RECORDS; r++) {
      for (let p = 0; p < PAGES; p++) rec.set(page(r, p), p * 4096);
      const pages = Array.from({ length: PAGES }, (_, p) => `{"pfn":${r * PAGES + p},"type":"NOTAB"}`).join(",");
      yield te.encode(`${r ? "," : ""}\n{"type":"PAGE_DATA","pages":[${pages}],"data":"`);
      // Base64 in pieces of whole triplets, as decode writes it.
      for (let o = 0; o < rec.byteLength; o += 3 << 18) yield te.encode(toBase64(rec.subarray(o, Math.min(rec.byteLength, o + (3 << 18)))));
      yield te.encode('"}');
    }
    yield te.encode(',\n{"type":"END"}\n]}\n');
  }

  /** The same stream, written by hand from the libxc layout (not by the codec's writer). */
  function expected(): string {
    const h = createHash("sha256");
    const head = new Uint8Array(40);
    const dv = new DataView(head.buffer);
    dv.setBigUint64(0, 0xffffffffffffffffn);
    dv.setUint32(8, 0x58454e46);
    dv.setUint32(12, 3); // version; options and reserved stay 0 (little-endian records)
    // domain header (little-endian): type, page shift, reserved, major, minor
    dv.setUint32(24, 2, true);
    dv.setUint16(28, 12, true);
    dv.setUint32(32, 4, true);
    dv.setUint32(36, 17, true);
    h.update(head);
    const rh = new Uint8Array(16 + PAGES * 8);
    const rv = new DataView(rh.buffer);
    for (let r = 0; r < RECORDS; r++) {
      rv.setUint32(0, 1, true); // PAGE_DATA
      rv.setUint32(4, 8 + PAGES * 8 + PAGES * 4096, true);
      rv.setUint32(8, PAGES, true);
      rv.setUint32(12, 0, true);
      for (let p = 0; p < PAGES; p++) rv.setBigUint64(16 + p * 8, BigInt(r * PAGES + p), true); // NOTAB: type nibble 0
      h.update(rh);
      for (let p = 0; p < PAGES; p++) h.update(page(r, p));
    }
    h.update(new Uint8Array(8)); // END
    return h.digest("hex");
  }

  it("encodes by streaming, in bounded memory, to the bytes the layout says", { timeout: 120_000 }, async () => {
    const it = documentText();
    let total = 0;
    let pending: Uint8Array = new Uint8Array(0);
    const src: Source = {
      async read(into) {
        while (pending.byteLength === 0) {
          const n = it.next();
          if (n.done) return 0;
          pending = n.value;
        }
        const k = Math.min(into.byteLength, pending.byteLength);
        into.set(pending.subarray(0, k));
        pending = pending.subarray(k);
        total += k;
        return k;
      },
    };
    const h = createHash("sha256");
    let peak = 0;
    const sink: Sink = {
      write(b) {
        h.update(b);
        peak = Math.max(peak, process.memoryUsage().rss);
      },
      async close() {},
    };
    await libxcCodec.encodeStream!(new StreamReader(src), sink, {});
    expect(total).toBeGreaterThan(0x1fffffe8);
    expect(h.digest("hex")).toBe(expected());
    expect(peak).toBeLessThan(600 << 20);
  });
});
