import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { MemorySink, StreamReader, chunksSource } from "@vmstream/framing";
import { qemuCodec } from "../src/index.js";

const here = dirname(fileURLToPath(import.meta.url));
/** The repository's fixtures folder (fixtures/README.md says how each file was made). */
export const FIXTURES = join(here, "../../../fixtures");
/** Real QEMU 7.2 streams (fixtures/qemu/README.md). */
export const QEMU_FIXTURES = join(FIXTURES, "qemu");

/** A QEMU fixture by file name; a missing one is an error, never a skip. */
export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(QEMU_FIXTURES, name)));
}

/** Real QEMU 7.2 streams in fixtures/qemu. */
export const STREAMS = ["pc-7.2-stopped", "pc-7.2-postcopy", "pc-7.2-uuid", "q35-7.2-smp2", "pc-7.2-netusb", "pc-7.2-ram6m", "pc-7.2-compress", "pc-2.0-old"];

export async function recode(bytes: Uint8Array, version = "3", opts = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await qemuCodec.recode(StreamReader.of(bytes), version, sink, opts);
  return sink.bytes();
}

export async function convert(bytes: Uint8Array, from: string, to: string, opts = {}): Promise<Uint8Array> {
  const sink = new MemorySink();
  await qemuCodec.convert!(StreamReader.of(bytes), from, { family: "qemu", version: to }, sink, opts);
  return sink.bytes();
}

export async function decodeText(bytes: Uint8Array, version = "3", opts = {}): Promise<string> {
  let s = "";
  for await (const piece of qemuCodec.decode(StreamReader.of(bytes), version, opts)) s += piece;
  return s;
}

export async function encode(doc: unknown): Promise<Uint8Array> {
  const sink = new MemorySink();
  await qemuCodec.encode(doc, sink, {});
  return sink.bytes();
}

export const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

/** encode from the document text through the streaming encoder, in pieces of `chunk` bytes. */
export async function encodeText(text: string, chunk = 1 << 20): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunk) pieces.push(bytes.subarray(i, i + chunk));
  const sink = new MemorySink();
  await qemuCodec.encodeStream(new StreamReader(chunksSource(pieces), { chunkSize: Math.min(chunk, 1 << 20) }), sink, {});
  return sink.bytes();
}
