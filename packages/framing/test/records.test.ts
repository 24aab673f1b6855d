import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  ByteWriter,
  StreamReader,
  WireError,
  beginRecord,
  chunksSource,
  readPadding,
  readRecordHeader,
  writeRecord,
} from "../src/index.js";

const rec = fc.record({ type: fc.nat({ max: 0xffff_ffff }), body: fc.uint8Array({ maxLength: 40 }) });

describe("type/length record framing", () => {
  test.prop([fc.array(rec, { maxLength: 10 }), fc.boolean()])("records written are read back, 8-aligned", async (recs, le) => {
    const w = new ByteWriter(8);
    for (const r of recs) {
      if (r.type % 2) writeRecord(w, r.type, r.body, le);
      else {
        const end = beginRecord(w, r.type, le);
        w.bytes(r.body);
        end();
      }
      expect(w.length % 8).toBe(0);
    }
    const r = new StreamReader(chunksSource([w.finish().slice()]), { chunkSize: 16 });
    for (let i = 0; i < recs.length; i++) {
      const h = (await readRecordHeader(r, i, { littleEndian: le }))!;
      expect(h.type).toBe(recs[i]!.type);
      expect(h.length).toBe(recs[i]!.body.length);
      await r.need(h.length);
      expect(r.take(h.length)).toEqual(recs[i]!.body);
      await readPadding(r, h.length);
    }
    expect(await readRecordHeader(r, recs.length, { littleEndian: le })).toBeNull();
  });

  it("refuses a body above the family's cap at the length field", async () => {
    const w = new ByteWriter().u32le(1).u32le(0xffff_fff8);
    const e = await readRecordHeader(StreamReader.of(w.finish()), 0, { littleEndian: true, maxBody: 128 << 20 }).catch((x) => x);
    expect(e).toBeInstanceOf(WireError);
    expect((e as WireError).code).toBe("LIMIT_EXCEEDED");
    expect((e as WireError).offset).toBe(4);
  });

  it("reports a header cut short, and non-zero padding at its byte", async () => {
    const e = await readRecordHeader(StreamReader.of(new Uint8Array(5)), 3, { littleEndian: true }).catch((x) => x);
    expect((e as WireError).code).toBe("TRUNCATED");
    expect((e as WireError).path).toBe("record[3]");
    const r = StreamReader.of(Uint8Array.from([1, 2, 3, 0, 0, 9, 0, 0]));
    await r.skip(3);
    const p = await readPadding(r, 3).catch((x) => x);
    expect((p as WireError).code).toBe("NONZERO_PADDING");
    expect((p as WireError).offset).toBe(5);
  });
});
