import { ByteWriter, StreamReader } from "@vmstream/framing";
import { describe, expect, test } from "vitest";
import { type LibxcRecord, libxlCodec, writeLibxcHeader, writeLibxcRecord, writeLibxlHeader, writeLibxlRecord } from "../src/index.js";
import { pipeReader, roundTrip } from "./helpers.js";

/** A COLO-like stream: three checkpoints of small page batches, then a final round ending in END. */
function checkpointed(rounds: number, pagesPerRound: number, end: boolean): Uint8Array {
  const w = new ByteWriter();
  writeLibxlHeader(w);
  writeLibxlRecord(w, { type: "LIBXC_CONTEXT" });
  writeLibxcHeader(w, { version: 3, domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 17 });
  writeLibxcRecord(w, { type: "STATIC_DATA_END" });
  const page = (pfn: number): LibxcRecord => ({ type: "PAGE_DATA", pages: [{ pfn, type: "NOTAB" }], data: new Uint8Array(4096).fill(pfn & 0xff) });
  for (let r = 0; r < rounds; r++) {
    for (let p = 0; p < pagesPerRound; p++) writeLibxcRecord(w, page(r * 1000 + p));
    writeLibxcRecord(w, { type: "HVM_CONTEXT", data: new Uint8Array(40).fill(r + 1) });
    writeLibxcRecord(w, { type: "CHECKPOINT" });
    writeLibxlRecord(w, { type: "EMULATOR_XENSTORE_DATA", emulator_id: 2, index: 0, entries: [["physmap/f0000000/size", String(r)]] });
    writeLibxlRecord(w, { type: "EMULATOR_CONTEXT", emulator_id: 2, index: 0, data: new Uint8Array(12).fill(r) });
    writeLibxlRecord(w, { type: "CHECKPOINT_END" });
  }
  if (end) {
    writeLibxcRecord(w, page(99));
    writeLibxcRecord(w, { type: "END" });
    writeLibxlRecord(w, { type: "EMULATOR_CONTEXT", emulator_id: 2, index: 0, data: new Uint8Array(3) });
    writeLibxlRecord(w, { type: "END" });
  }
  return w.finish().slice();
}

describe("checkpointed libxl streams", () => {
  for (const [rounds, pages, end] of [
    [3, 40, true],
    [3, 40, false],
    [1, 1, false],
  ] as const) {
    test(`${rounds} checkpoint(s) of ${pages} page(s), ${end ? "closed by END" : "ending at a failover point"}`, async () => {
      const b = checkpointed(rounds, pages, end);
      const rep = await libxlCodec.verify(StreamReader.of(b), "2", {});
      expect(rep.bytes).toBe(b.byteLength);
      expect(rep.notes.some((n) => n.includes("ends after a checkpoint"))).toBe(!end);
      // Bulk draining (verify) and record-by-record walking (inspect, pipes) agree.
      await libxlCodec.verify(pipeReader(b, 4093), "2", {});
      const ins = await libxlCodec.inspect(StreamReader.of(b), "2", {});
      expect(ins.json).toMatchObject({ page_records: rounds * pages + (end ? 1 : 0) });
      const { recoded, piped, encoded } = await roundTrip(libxlCodec, b, "2");
      expect(Buffer.from(recoded).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(piped).equals(Buffer.from(b))).toBe(true);
      expect(Buffer.from(encoded).equals(Buffer.from(b))).toBe(true);
    });
  }

  test("a cut inside a checkpoint, or END inside one, is refused", async () => {
    const b = checkpointed(2, 3, true);
    await expect(libxlCodec.verify(StreamReader.of(b.subarray(0, b.byteLength - 200)), "2", {})).rejects.toMatchObject({ name: "TruncatedError" });
    const w = new ByteWriter();
    writeLibxlHeader(w);
    writeLibxlRecord(w, { type: "LIBXC_CONTEXT" });
    writeLibxcHeader(w, { version: 3, domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 17 });
    writeLibxcRecord(w, { type: "STATIC_DATA_END" });
    writeLibxcRecord(w, { type: "CHECKPOINT" });
    const at = w.length;
    writeLibxlRecord(w, { type: "END" });
    const e = await libxlCodec.verify(StreamReader.of(w.finish().slice()), "2", {}).catch((x: unknown) => x);
    expect(e).toMatchObject({ offset: at, message: expect.stringMatching(/inside a checkpoint/) });
  });
});
