/**
 * The configuration section has no length: it is parsed from what the reader
 * has buffered, first 32 KiB, then again from 1 MiB when the parse ran out or
 * ended near the buffer's end (parse.ts, readConfig). A real QEMU 10.0 stream
 * with a configuration subsection (its uuid), its machine name made longer so
 * that the section ends before, near and past 32 KiB, read through sources of
 * several chunk sizes, must give the same configuration and the same bytes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { MemorySink, StreamReader, bytesSource } from "@vmstream/framing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { FIXTURES, same } from "./qemu-helpers.js";

const original = new Uint8Array(readFileSync(join(FIXTURES, "qemu-releases/10.0/pc-10.0-uuid.mig")));
// Header (8 bytes), then 0x07, be32 name length, the name, the uuid subsection.
const NAME_AT = 13;
const oldLength = new DataView(original.buffer, original.byteOffset).getUint32(9);

/** The stream with its machine name `n` bytes long (nothing in it holds an absolute offset before the RAM). */
function withName(n: number): { bytes: Uint8Array; name: string } {
  const name = "pc-i440fx-10.0".padEnd(n, "x");
  const out = new Uint8Array(original.byteLength - oldLength + n);
  out.set(original.subarray(0, 9));
  new DataView(out.buffer).setUint32(9, n);
  for (let i = 0; i < n; i++) out[NAME_AT + i] = name.charCodeAt(i);
  out.set(original.subarray(NAME_AT + oldLength), NAME_AT + n);
  return { bytes: out, name };
}

const reader = (bytes: Uint8Array, chunkSize: number): StreamReader => new StreamReader(bytesSource(bytes), { chunkSize });

describe.each([4096, 16 << 10, 1 << 20])("chunks of %i bytes", (chunkSize) => {
  // With chunks below 32 KiB the first parse sees exactly 32 768 bytes from offset 8: a name of 32 763 bytes ends
  // there, one of 32 750 leaves the uuid subsection cut inside its name (a parse that stopped at either would
  // drop the subsection); past 32 763 the name itself is cut.
  test.each([oldLength, 20_000, 32_400, 32_750, 32_763, 33_000, 60_000])("a machine name of %i bytes", async (n) => {
    const { bytes, name } = withName(n);
    const s = (await qemuCodec.inspect(reader(bytes, chunkSize), "3", {})).json as QemuSummary;
    expect(s.configuration?.name).toBe(name);
    expect(s.configuration?.subsections.map((x) => x.name)).toEqual(["configuration/uuid"]);
    expect((await qemuCodec.verify(reader(bytes, chunkSize), "3", {})).bytes).toBe(bytes.byteLength);
    const sink = new MemorySink();
    await qemuCodec.recode(reader(bytes, chunkSize), "3", sink, {});
    expect(same(sink.bytes(), bytes)).toBe(true);
  });
});
