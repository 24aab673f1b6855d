/**
 * Round trips go through the same `FamilyCodec` interface the CLI uses
 * (StreamReader in, Sink out), so the matrix tests what users run.
 */
import { type CodecOptions, type FamilyCodec, MemorySink, StreamReader, WireError } from "@vmstream/framing";

/**
 * A memory sink that says it coalesces (it copies every chunk it is given), as
 * the CLI's output file sink does: a codec then writes through it directly,
 * the path users run, instead of through a 4 MiB BufferedSink allocated per
 * call, which for the matrix's small streams cost more than the encoding.
 */
class CollectSink extends MemorySink {
  readonly coalesces = true;
}

export async function encodeDoc(codec: FamilyCodec, doc: unknown, opts: CodecOptions = {}): Promise<Uint8Array> {
  const sink = new CollectSink();
  await codec.encode(doc, sink, opts);
  await sink.close();
  return sink.bytes();
}

export async function decodeDoc(codec: FamilyCodec, bytes: Uint8Array, version: string, opts: CodecOptions = {}): Promise<Record<string, unknown>> {
  // Pieces joined once: `+=` over thousands of small pieces builds a rope JSON.parse must flatten.
  const pieces: string[] = [];
  for await (const piece of codec.decode(StreamReader.of(bytes), version, opts)) pieces.push(piece);
  return JSON.parse(pieces.join("")) as Record<string, unknown>;
}

export async function convertBytes(
  codec: FamilyCodec,
  bytes: Uint8Array,
  version: string,
  to: { family: string; version: string },
  opts: CodecOptions = {},
): Promise<Uint8Array> {
  // What the CLI answers too: a family without convert refuses every target, by name.
  if (!codec.convert) throw new WireError("REFUSED", `${codec.family} streams cannot be converted (to ${to.family}@${to.version})`, 0);
  const sink = new CollectSink();
  await codec.convert(StreamReader.of(bytes), version, to, sink, opts);
  await sink.close();
  return sink.bytes();
}

export async function recodeBytes(codec: FamilyCodec, bytes: Uint8Array, version: string, opts: CodecOptions = {}): Promise<Uint8Array> {
  const sink = new CollectSink();
  await codec.recode(StreamReader.of(bytes), version, sink, opts);
  await sink.close();
  return sink.bytes();
}

/** What happened when an operation ran: the value, a typed wire error, or something that must never escape. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; wire: WireError } | { ok: false; wire: null; error: unknown };

export async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (e instanceof WireError) return { ok: false, wire: e };
    return { ok: false, wire: null, error: e };
  }
}

export const describeError = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** First differing offset, for failure messages. */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/** Thrown while building a property that this build cannot run (a version no arbitrary covers yet). */
export class NotImplemented extends Error {
  override name = "NotImplemented";
}

/**
 * Structural equality of decoded values: own enumerable keys, arrays, bytes,
 * bigints. Prototypes are ignored on purpose: codecs build objects with
 * `safeObject()` (no prototype) while arbitraries build plain ones.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && bytesEqual(a, b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
