import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { JsonReader, LimitError, MalformedError, StreamReader, chunksSource, parseJsonBytes, toBase64, type JsonToken } from "../src/index.js";

const te = new TextEncoder();

/** A reader over `text` delivered in chunks of `size` bytes (1 = every boundary is a chunk boundary). */
function reader(text: string | Uint8Array, size = 1 << 16, opts: ConstructorParameters<typeof JsonReader>[1] = {}): JsonReader {
  const bytes = typeof text === "string" ? te.encode(text) : text;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
  return new JsonReader(new StreamReader(chunksSource(chunks), { chunkSize: Math.max(16, size) }), opts);
}

async function fault(p: Promise<unknown>): Promise<MalformedError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(MalformedError);
  return e as MalformedError;
}

async function whole(j: JsonReader): Promise<unknown> {
  const v = await j.value();
  await j.end();
  return v;
}

describe("JsonReader.value", () => {
  it("parses what JSON.parse parses, at every chunking", async () => {
    const text = '  {"a": [1, -2.5e3, "x\\"y\\u00e9", true, false, null, {}], "b": {"c": "ü€𝄞"}, "": []}  ';
    for (const size of [1, 2, 3, 7, 1 << 16]) expect(await whole(reader(text, size))).toEqual(JSON.parse(text));
  });

  it("names the byte offset where the text stops being JSON", async () => {
    const cases: [string, number, string][] = [
      ['{"a": 1,}', 8, "a string key expected"],
      ['{"a" 1}', 5, "':' expected"],
      ["[1 2]", 3, "',' or ']' expected"],
      ['["é", x]', 7, "a value expected"],
      ['{"a": tru}', 6, "a value expected"],
      ["[01]", 2, "',' or ']' expected"],
      ["[1.]", 3, "invalid number"],
      ['["\\q"]', 2, "invalid escape"],
      ['["a\nb"]', 3, "control character"],
      ['{"a": [1, 2', 11, "',' or ']' expected"],
      ['{"a": "abc', 10, "the string does not end"],
      ["", 0, "a value expected"],
    ];
    for (const [text, offset, what] of cases) {
      for (const size of [1, 4, 1 << 16]) {
        const e = await fault(whole(reader(text, size)));
        expect([text, size, e.offset]).toEqual([text, size, offset]);
        expect(e.message).toContain(what);
      }
      // The in-memory parser agrees.
      let e2: unknown;
      try {
        parseJsonBytes(te.encode(text));
      } catch (x) {
        e2 = x;
      }
      expect((e2 as MalformedError).offset).toBe(offset);
    }
  });

  it("refuses bytes after the document", async () => {
    const e = await fault(whole(reader('{"a": 1} x')));
    expect(e.offset).toBe(9);
    expect(() => parseJsonBytes(te.encode("[1] ]"))).toThrow(/nothing expected after/);
  });

  it("refuses a value longer than maxValue with a LimitError at its start", async () => {
    const j = reader(`[${'"x",'.repeat(100)}"y"]`, 7, { maxValue: 64 });
    await expect(j.value()).rejects.toBeInstanceOf(LimitError);
  });

  test.prop([fc.jsonValue(), fc.integer({ min: 1, max: 9 })])("round-trips any JSON value, any chunking", async (v, size) => {
    const text = JSON.stringify(v, null, size % 2 ? 1 : undefined);
    expect(await whole(reader(text, size))).toEqual(JSON.parse(text));
  });

  test.prop([fc.oneof(fc.array(fc.jsonValue()), fc.dictionary(fc.string(), fc.jsonValue())), fc.nat(), fc.integer({ min: 1, max: 9 })])(
    "a document cut short fails at its end, never inside",
    async (v, cut, size) => {
      const bytes = te.encode(JSON.stringify(v));
      const k = cut % bytes.length; // a strict prefix of an array or object is never JSON
      const e = await fault(whole(reader(bytes.subarray(0, k), size)));
      expect(e.offset).toBe(k);
    },
  );
});

describe("JsonReader structure", () => {
  it("walks objects and arrays key by key, checking commas", async () => {
    const j = reader('{"format": "x@1", "records": [ {"n": 1}, {"n": 2} ], "tail": null}', 3);
    const seen: unknown[] = [];
    await j.openObject();
    for (let k = await j.nextKey(); k !== null; k = await j.nextKey()) {
      if (k === "records") {
        await j.openArray();
        while (await j.nextItem()) seen.push(await j.value());
      } else seen.push(k, await j.value());
    }
    await j.end();
    expect(seen).toEqual(["format", "x@1", { n: 1 }, { n: 2 }, "tail", null]);
  });

  it("reports a missing comma between items at its offset", async () => {
    const j = reader('[{"n": 1} {"n": 2}]');
    await j.openArray();
    expect(await j.nextItem()).toBe(true);
    await j.value();
    const e = await fault(j.nextItem());
    expect(e.offset).toBe(10);
  });

  it("tokens() yields every token with its byte offset; skip() passes over any value", async () => {
    const text = '{"é": [1, "ab", true], "z": null}';
    const toks: JsonToken[] = [];
    for await (const t of reader(text, 2).tokens()) toks.push(t);
    expect(toks.map((t) => [t.kind, t.offset, t.value])).toEqual([
      ["{", 0, undefined],
      ["key", 1, "é"],
      ["[", 7, undefined],
      ["number", 8, 1],
      ["string", 11, "ab"],
      ["true", 17, undefined],
      ["]", 21, undefined],
      ["key", 24, "z"],
      ["null", 29, undefined],
      ["}", 33, undefined],
    ]);
    const j = reader(`[${text}, 5]`, 3);
    await j.openArray();
    await j.nextItem();
    await j.skip();
    await j.nextItem();
    expect(await j.value()).toBe(5);
  });
});

describe("long strings", () => {
  test.prop([fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 50 }), fc.boolean()])(
    "base64() decodes straight from the input, any chunking, escaped '/' too",
    async (bytes, size, escape) => {
      let b64 = toBase64(bytes);
      if (escape) b64 = b64.replaceAll("/", "\\/");
      const j = reader(`["${b64}", 7]`, size);
      await j.openArray();
      await j.nextItem();
      const got = await j.base64Bytes();
      expect(Buffer.from(got).equals(Buffer.from(bytes))).toBe(true);
      await j.nextItem();
      expect(await j.value()).toBe(7);
    },
  );

  it("base64() hands out bounded pieces and counts them", async () => {
    const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 7) & 255);
    const j = reader(`"${toBase64(bytes)}"`, 65536);
    const pieces: number[] = [];
    let at = 0;
    let same = true;
    const n = await j.base64((p) => {
      pieces.push(p.byteLength);
      for (let i = 0; i < p.byteLength; i++) if (p[i] !== bytes[at + i]) same = false;
      at += p.byteLength;
    });
    expect(n).toBe(bytes.byteLength);
    expect(same).toBe(true);
    expect(Math.max(...pieces)).toBeLessThanOrEqual(3 << 16);
  });

  it("base64 faults name the offending byte", async () => {
    const cases: [string, number, string][] = [
      ['"AAA*"', 4, "invalid base64"],
      ['"AA=A"', 4, "invalid base64"],
      ['"AAA"', 4, "not a multiple of 4"],
      ['"A==="', 2, "invalid base64"],
      ['"AAAA', 5, "does not end"],
      ["12", 0, "base64 string expected"],
      ['"AA\\u0041"', 3, "invalid base64"],
    ];
    for (const [text, offset, what] of cases) {
      for (const size of [1, 3, 64]) {
        const e = await fault(reader(text, size).base64Bytes());
        expect([text, size, e.offset]).toEqual([text, size, offset]);
        expect(e.message).toContain(what);
      }
    }
  });

  test.prop([fc.string({ unit: "binary", maxLength: 400 }), fc.integer({ min: 1, max: 13 })])(
    "stringPieces() yields bounded pieces that join to the string",
    async (s, size) => {
      const pieces: string[] = [];
      for await (const p of reader(JSON.stringify(s), size, { maxPiece: 16 }).stringPieces()) {
        expect(te.encode(p).byteLength).toBeLessThanOrEqual(16);
        pieces.push(p);
      }
      expect(pieces.join("")).toBe(s);
    },
  );

  it("object() decodes the named members to bytes, in the named nested objects only", async () => {
    const j = reader(`{"type": "X", "data": "${toBase64(new Uint8Array([1, 2, 3]))}", "inner": {"data": "AAE=", "n": 2}, "other": {"data": "AAE="}, "list": ["AAE="]}`, 5);
    const o = await j.object(new Set(["data"]), new Set(["inner"]));
    expect(o["other"]).toEqual({ data: "AAE=" });
    expect(o["type"]).toBe("X");
    expect(o["data"]).toEqual(new Uint8Array([1, 2, 3]));
    expect((o["inner"] as Record<string, unknown>)["data"]).toEqual(new Uint8Array([0, 1]));
    expect(o["list"]).toEqual(["AAE="]);
  });
});

describe("parseJsonBytes", () => {
  const offset = (s: string): number => {
    try {
      parseJsonBytes(te.encode(s));
      return -1;
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedError);
      return (e as MalformedError).offset;
    }
  };

  it("points at the first byte that cannot continue a JSON document", () => {
    expect(offset('{"a": [1, 2,, 3]}')).toBe(12);
    expect(offset('{"a": 1')).toBe(7); // ends early: the offset is the end
    expect(offset("[1] x")).toBe(4);
    expect(offset('{"é": tru}')).toBe(7); // bytes, not characters: é is two, so "tru" starts at byte 7
    expect(offset("")).toBe(0);
    expect(offset("[".repeat(100_000))).toBe(100_000); // deep nesting: no stack overflow
  });

  // JSON.parse is the oracle: the scanner accepts exactly what it accepts.
  test.prop([fc.json()])("accepts every document JSON.stringify writes", (s) => {
    expect(parseJsonBytes(te.encode(s))).toEqual(JSON.parse(s));
  });

  test.prop([
    fc.oneof(
      fc.string(),
      fc.json().map((s) => s.slice(0, -1)),
      fc
        .tuple(fc.json(), fc.nat(), fc.constantFrom(",", "]", "}", ":", '"', "\\", "x", "\u0001"))
        .map(([s, k, c]) => s.slice(0, k % (s.length + 1)) + c + s.slice(k % (s.length + 1))),
    ),
  ])("rejects exactly what JSON.parse rejects", (s) => {
    let valid = true;
    try {
      JSON.parse(s);
    } catch {
      valid = false;
    }
    expect(offset(s) === -1).toBe(valid);
  });
});
