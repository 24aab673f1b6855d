import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { type FamilyCodec, MemorySink, StreamReader, chunksSource } from "@vmstream/framing";

/** The repository's Xen fixtures (fixtures/xen/README.md says how each was made). */
export const FIXTURES = join(import.meta.dirname, "../../../fixtures/xen");
export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
/** The v2 streams (libxc, libxl, xl, converter outputs); the legacy inputs are @vmstream/legacy's. */
export const fixtureNames = (): string[] => readdirSync(FIXTURES).filter((f) => f.endsWith(".bin") && !/^legacy_(?!xl_)/.test(f));

export async function collect(it: AsyncIterable<string>): Promise<string> {
  let s = "";
  for await (const p of it) s += p;
  return s;
}

export async function sinkOf(fn: (s: MemorySink) => Promise<void>): Promise<Uint8Array> {
  const s = new MemorySink();
  await fn(s);
  return s.bytes();
}

/** A reader delivering the bytes in small pieces with no seek (a pipe). */
export const pipeReader = (b: Uint8Array, piece = 7): StreamReader => {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < b.byteLength; i += piece) chunks.push(b.subarray(i, i + piece));
  return new StreamReader(chunksSource(chunks), { chunkSize: 64 });
};

/**
 * Recode (from memory, and through a pipe in 13-byte pieces whose records
 * straddle every refill) and decode → encode.
 */
export async function roundTrip(c: FamilyCodec, b: Uint8Array, version: string) {
  const recoded = await sinkOf((s) => c.recode(StreamReader.of(b), version, s, {}));
  const piped = await sinkOf((s) => c.recode(pipeReader(b, 13), version, s, {}));
  const doc = await collect(c.decode(StreamReader.of(b), version, {}));
  const encoded = await sinkOf((s) => c.encode(JSON.parse(doc), s, {}));
  return { recoded, piped, doc, encoded };
}
