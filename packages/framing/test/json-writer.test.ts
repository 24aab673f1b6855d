import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { JsonReader, JsonWriter, MalformedError, StreamReader, chunksSource, jsonTextOf } from "../src/index.js";

// The reference for base64 is Node's own encoder (an implementation independent of ours).
const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64");
const td = new TextDecoder();
const te = new TextEncoder();

/** Everything a writer hands out, joined (each block copied before the next is asked for, as a sink does). */
function joined(blocks: Iterable<Uint8Array>): string {
  const parts: Uint8Array[] = [];
  for (const b of blocks) parts.push(b.slice());
  return td.decode(Buffer.concat(parts));
}

async function joinedAsync(blocks: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const b of blocks) parts.push(b.slice());
  return td.decode(Buffer.concat(parts));
}

/** A StreamReader over `bytes` delivered in pieces of `size` (chunk boundaries at every multiple). */
function streamOf(bytes: Uint8Array, size: number): StreamReader {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return new StreamReader(chunksSource(chunks), { chunkSize: Math.max(16, size) });
}

describe("JsonWriter", () => {
  test.prop([fc.string({ maxLength: 7 }), fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 16, max: 40 }), fc.integer({ min: 1, max: 20 })])(
    "base64 matches Node's encoder, whatever the alignment, the block size and the pieces",
    (lead, bytes, size, piece) => {
      const w = new JsonWriter(size);
      const out: Uint8Array[] = [];
      w.raw(lead).raw('"');
      // Pieces of whole triplets but the last, as a stream hands them over.
      const step = piece * 3;
      for (let i = 0; i < bytes.length; i += step) {
        w.base64(bytes.subarray(i, Math.min(bytes.length, i + step)));
        if (w.full) for (const b of w.drain()) out.push(b.slice());
      }
      w.raw('"');
      for (const b of w.end()) {
        expect(b.byteLength).toBeLessThanOrEqual(size);
        out.push(b.slice());
      }
      expect(td.decode(Buffer.concat(out))).toBe(`${lead}"${b64(bytes)}"`);
    },
  );

  test.prop([fc.jsonValue(), fc.integer({ min: 16, max: 64 })])("value() writes what JSON.stringify writes", (v, size) => {
    const w = new JsonWriter(size);
    w.value(v);
    expect(joined(w.end())).toBe(JSON.stringify(v));
  });

  it("value() writes bigint as decimal strings and bytes as base64, leaves undefined members out", () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 251]);
    const v = { a: 2n ** 64n - 1n, b: bytes, c: undefined, d: [undefined, 1], e: "é\n\u2028" };
    const w = new JsonWriter(16);
    w.value(v);
    expect(joined(w.end())).toBe(JSON.stringify({ a: "18446744073709551615", b: b64(bytes), d: [null, 1], e: "é\n\u2028" }));
  });

  test.prop([fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 97 }), fc.integer({ min: 16, max: 200 })])(
    "base64Of and base64Rest read a stream at every split into the same text",
    async (bytes, split, size) => {
      const w = new JsonWriter(size);
      const of = await joinedAsync(
        (async function* () {
          yield* w.base64Of(streamOf(bytes, split), bytes.length);
          yield* w.end();
        })(),
      );
      expect(of).toBe(b64(bytes));
      const rest = await joinedAsync(
        (async function* () {
          yield* w.base64Rest(streamOf(bytes, split));
          yield* w.end();
        })(),
      );
      expect(rest).toBe(b64(bytes));
    },
  );

  it("base64Of names what is missing when the stream ends early", async () => {
    const w = new JsonWriter(64);
    const run = async () => {
      for await (const _ of w.base64Of(streamOf(new Uint8Array(10), 4), 20, "page contents"));
    };
    await expect(run()).rejects.toMatchObject({ code: "TRUNCATED" });
  });

  test.prop([fc.array(fc.string({ unit: "grapheme", maxLength: 12 }), { maxLength: 40 }), fc.integer({ min: 16, max: 24 })])(
    "jsonTextOf keeps characters whole across blocks",
    async (strings, size) => {
      const w = new JsonWriter(size);
      const text = await (async () => {
        let s = "";
        for await (const piece of jsonTextOf(
          (async function* () {
            for (const x of strings) {
              w.str(x);
              if (w.full) yield* w.drain();
            }
            yield* w.end();
          })(),
        ))
          s += piece;
        return s;
      })();
      expect(text).toBe(strings.map((x) => JSON.stringify(x)).join(""));
    },
  );
});

describe("JsonReader base64 members", () => {
  /** A document of records, each with base64 `data` made by Node's encoder. */
  const docOf = (pages: Uint8Array[], slash: boolean): Uint8Array =>
    te.encode(`[${pages.map((p, i) => `{"n": ${i}, "data": "${slash ? b64(p).replaceAll("/", "\\/") : b64(p)}", "k": "x"}`).join(",\n ")}]`);

  test.prop([fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), fc.boolean()])(
    "object() gives the bytes back at every chunking, reused buffer or not, escaped '/' or not",
    async (pages, split, reuse, slash) => {
      const j = new JsonReader(streamOf(docOf(pages, slash), split));
      await j.openArray();
      for (let i = 0; await j.nextItem(); i++) {
        const o = await j.object(new Set(["data"]), undefined, 0, reuse);
        expect(o["n"]).toBe(i);
        expect(o["k"]).toBe("x");
        // Checked before the next object: with `reuse` its buffer is the next one's.
        expect(Buffer.from(o["data"] as Uint8Array).equals(Buffer.from(pages[i]!))).toBe(true);
      }
      await j.end();
    },
  );

  test.prop([fc.array(fc.uint8Array({ minLength: 1, maxLength: 60 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.integer({ min: 0, max: 255 })])(
    "a damaged document gets the same verdict, at the same offset, whether read whole or a byte at a time",
    async (pages, at, byte) => {
      const doc = docOf(pages, false);
      doc[at % doc.length] = byte;
      const verdict = async (split: number): Promise<string> => {
        try {
          const j = new JsonReader(streamOf(doc, split));
          const got: unknown[] = [];
          await j.openArray();
          while (await j.nextItem()) {
            const o = await j.object(new Set(["data"]), undefined, 0, true);
            got.push({ ...o, data: b64(o["data"] instanceof Uint8Array ? o["data"] : new Uint8Array(0)) });
          }
          await j.end();
          return JSON.stringify(got);
        } catch (e) {
          expect(e).toBeInstanceOf(MalformedError);
          return `${(e as MalformedError).offset}: ${(e as Error).message}`;
        }
      };
      expect(await verdict(1 << 16)).toBe(await verdict(1));
    },
  );
});
