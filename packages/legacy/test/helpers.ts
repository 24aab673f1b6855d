import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MemorySink, StreamReader, chunksSource, type CodecOptions, type FormatId } from "@vmstream/framing";
import { legacyCodec } from "../src/index.js";

/** A fixture from the repository's fixtures/ (a bare name is in fixtures/xen). */
export const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../fixtures/${name.includes("/") ? name : `xen/${name}`}`, import.meta.url))));

/** A reader that delivers the bytes in small uneven pieces (no size, no seek), like a pipe. */
export function pipeReader(bytes: Uint8Array, piece = 7): StreamReader {
  const parts: Uint8Array[] = [];
  for (let i = 0, k = 0; i < bytes.length; k++) {
    const n = piece + (k % 5) * 3;
    parts.push(bytes.subarray(i, i + n));
    i += n;
  }
  return new StreamReader(chunksSource(parts), { chunkSize: 64 });
}

export const LIBXC: FormatId = { family: "libxc", version: "3" };
export const LIBXL: FormatId = { family: "libxl", version: "2" };

export async function convertBytes(input: Uint8Array, to: FormatId, opts: CodecOptions = {}, version?: string, reader?: StreamReader): Promise<Uint8Array> {
  const v = version ?? legacyCodec.detect(input.subarray(0, 4096)) ?? "64";
  const sink = new MemorySink();
  await legacyCodec.convert!(reader ?? StreamReader.of(input), v, to, sink, opts);
  return sink.bytes();
}

export async function textOf(it: AsyncIterable<string>): Promise<string> {
  let s = "";
  for await (const p of it) s += p;
  return s;
}

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString("hex");
