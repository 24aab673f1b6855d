import { type CodecOptions, type FamilyCodec, type Sink, StreamReader, WireError, chunksSource } from "@vmstream/framing";
import fc from "fast-check";
import { HOSTILE_U32, applyMutation, mutation } from "./mutate.js";

/*
 * Shared fuzz harness. One input is pushed through every operation a
 * FamilyCodec offers (detect, verify, inspect, the analyze view, decode,
 * recode, every convert target), each on a fresh reader, and the decoder
 * contract is checked: the only outcome besides success is a WireError whose
 * offset lies inside the input; nothing hangs; nothing allocates far beyond
 * the bytes present; a stream that verifies recodes to itself.
 */

export type FuzzOpName = "detect" | "verify" | "inspect" | "analyze" | "decode" | "recode" | "encode" | `convert:${string}`;

/** One broken promise of the contract. */
export interface FuzzViolation {
  family: string;
  op: FuzzOpName;
  /** What went wrong, e.g. "threw TypeError: …" or "offset 9000 outside the 120-byte input". */
  problem: string;
  /** The raw thrown value when there was one (for its stack in a report). */
  thrown?: unknown;
}

export interface FuzzOptions {
  /** Bound per operation; a promise still pending after it is a hang (default 5 s). */
  timeoutMs?: number;
  /**
   * Deliver the input in two pieces split here (exercises refills at awkward
   * places); undefined = one piece with a tiny read size.
   */
  splitAt?: number;
  /** Largest growth of ArrayBuffer memory tolerated per operation (default 64 MiB + 16 × input). */
  maxAllocBytes?: number;
  /** Version to try when detection fails (default: the codec's newest). */
  fallbackVersion?: string;
  /** Use this version whatever detection says (like `--format family@version`). */
  version?: string;
  /** Options every operation receives (e.g. `{ width: 64 }` like `--width 64`). */
  codecOptions?: CodecOptions;
  /** Skip the recode-equals-input check (for families whose verify accepts what recode cannot repeat). */
  skipLossless?: boolean;
}

/** Output collector that keeps only a running length and a copy small enough to compare. */
class CollectSink implements Sink {
  parts: Uint8Array[] = [];
  length = 0;
  constructor(private readonly keepUpTo: number) {}
  write(chunk: Uint8Array): void {
    this.length += chunk.byteLength;
    if (this.length <= this.keepUpTo) this.parts.push(chunk.slice());
  }
  async close(): Promise<void> {}
  async abort(): Promise<void> {}
  equals(b: Uint8Array): boolean {
    if (this.length !== b.byteLength) return false;
    let o = 0;
    for (const p of this.parts) {
      for (let i = 0; i < p.byteLength; i++) if (p[i] !== b[o + i]) return false;
      o += p.byteLength;
    }
    return true;
  }
}

function readerFor(bytes: Uint8Array, splitAt: number | undefined): StreamReader {
  if (splitAt === undefined) return new StreamReader(chunksSource([bytes]), { chunkSize: 64 });
  const k = Math.min(bytes.byteLength, Math.max(0, splitAt));
  return new StreamReader(chunksSource([bytes.subarray(0, k), bytes.subarray(k)]), { chunkSize: 4096 });
}

const arrayBuffers = (): number => (typeof process === "undefined" ? 0 : process.memoryUsage().arrayBuffers);

class Timeout {
  constructor(readonly ms: number) {}
}

async function bounded<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout(ms)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Run every operation of `codec` on `bytes`; return the violations (empty when
 * the contract holds). Outcomes per operation are in `outcomes` for callers
 * that want to assert more (e.g. that a hostile value is refused).
 */
export async function fuzzOnce(
  codec: FamilyCodec,
  bytes: Uint8Array,
  opts: FuzzOptions = {},
): Promise<{ violations: FuzzViolation[]; outcomes: Map<FuzzOpName, "ok" | WireError> }> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxAlloc = opts.maxAllocBytes ?? 64 * 2 ** 20 + 16 * bytes.byteLength;
  const violations: FuzzViolation[] = [];
  const outcomes = new Map<FuzzOpName, "ok" | WireError>();
  const fail = (op: FuzzOpName, problem: string, thrown?: unknown) => violations.push({ family: codec.family, op, problem, thrown });

  let version: string | null = null;
  try {
    version = codec.detect(bytes.subarray(0, 4096));
    outcomes.set("detect", "ok");
  } catch (e) {
    fail("detect", `detect threw ${describe(e)}`, e);
  }
  if (opts.version !== undefined) version = opts.version;
  else if (version === null || !codec.versions.includes(version)) version = opts.fallbackVersion ?? codec.versions[codec.versions.length - 1]!;
  const v = version;
  const co: CodecOptions = opts.codecOptions ?? {};

  const run = async (op: FuzzOpName, fn: (r: StreamReader) => Promise<void>): Promise<boolean> => {
    const before = arrayBuffers();
    const r = readerFor(bytes, opts.splitAt);
    try {
      await bounded(fn(r), timeoutMs);
      outcomes.set(op, "ok");
      return true;
    } catch (e) {
      if (e instanceof Timeout) fail(op, `no result after ${e.ms} ms (hang)`);
      else if (!(e instanceof WireError)) fail(op, `threw ${describe(e)} instead of a WireError`, e);
      else if (!Number.isSafeInteger(e.offset) || e.offset < 0 || e.offset > bytes.byteLength) {
        fail(op, `WireError offset ${e.offset} outside the ${bytes.byteLength}-byte input: ${e.message}`, e);
      } else outcomes.set(op, e);
      return false;
    } finally {
      const grown = arrayBuffers() - before;
      if (grown > maxAlloc) fail(op, `ArrayBuffer memory grew by ${grown} bytes on a ${bytes.byteLength}-byte input`);
    }
  };

  const verified = await run("verify", async (r) => {
    await codec.verify(r, v, co);
  });
  await run("inspect", async (r) => {
    const ins = await codec.inspect(r, v, co);
    JSON.stringify(ins.json);
  });
  if (codec.family === "qemu") {
    await run("analyze", async (r) => {
      const ins = await codec.inspect(r, v, { ...co, view: "analyze" });
      JSON.stringify(ins.json);
    });
  }
  await run("decode", async (r) => {
    let text = 0;
    for await (const piece of codec.decode(r, v, co)) text += piece.length;
    if (text === 0) throw new Error("decode produced no text");
  });
  const sink = new CollectSink(Math.max(bytes.byteLength, 1 << 20));
  const recoded = await run("recode", (r) => codec.recode(r, v, sink, co));
  if (verified && recoded && !opts.skipLossless && !sink.equals(bytes)) {
    fail("recode", `the input verifies but recode wrote ${sink.length} bytes that differ from the ${bytes.byteLength} input bytes`);
  }
  let targets: { family: string; version: string }[] = [];
  try {
    targets = codec.convertTargets?.(v) ?? [];
  } catch (e) {
    fail("convert:targets", `convertTargets threw ${describe(e)}`, e);
  }
  if (codec.convert) {
    for (const t of targets) {
      await run(`convert:${t.family}@${t.version}`, (r) => codec.convert!(r, v, t, new CollectSink(0), co));
    }
  }
  return { violations, outcomes };
}

export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** A readable one-line summary of violations, for assertion messages. */
export function formatViolations(vs: FuzzViolation[]): string {
  return vs.map((v) => `${v.family} ${v.op}: ${v.problem}`).join("\n");
}

/*
 * Inputs. Byte-level mutation of a corpus (truncation, bit flips, hostile u32
 * values, deletion, duplication, splicing; see mutate.ts), plus mutations
 * aimed at length and count fields: Xen records keep them at 8-byte aligned
 * offsets (+4 for body_length, +8 for PAGE_DATA count), QEMU at arbitrary
 * offsets as big-endian words.
 */

/** set32 at an 8-aligned record position (+0 type, +4 length, +8 first body word), both byte orders. */
export function alignedLengthMutation(length: number): fc.Arbitrary<{ at: number; value: number; littleEndian: boolean }> {
  return fc.record({
    at: fc
      .tuple(fc.nat({ max: Math.max(0, Math.floor(length / 8) - 1) }), fc.constantFrom(0, 4, 8, 12))
      .map(([k, d]) => Math.min(k * 8 + d, Math.max(0, length - 4))),
    value: fc.constantFrom(...HOSTILE_U32, 0xffff_fff8, 0x7fff_ffff),
    littleEndian: fc.boolean(),
  });
}

/** A corpus member with 1–4 mutations, generic or aimed at length fields. */
export function fuzzInput(corpus: Uint8Array[], maxMutations = 4): fc.Arbitrary<Uint8Array> {
  return fc.constantFrom(...corpus).chain((base) => {
    const generic = mutation(base.length, corpus).map((m) => (b: Uint8Array) => applyMutation(b, m));
    const aimed = alignedLengthMutation(base.length).map((m) => (b: Uint8Array) => applyMutation(b, { kind: "set32", ...m }));
    return fc
      .array(fc.oneof({ weight: 3, arbitrary: generic }, { weight: 2, arbitrary: aimed }), { minLength: 1, maxLength: maxMutations })
      .map((fs) => fs.reduce((b, f) => f(b), base));
  });
}

/** Split points for `FuzzOptions.splitAt` (undefined = byte-trickle delivery). */
export const splitPoint: fc.Arbitrary<number | undefined> = fc.option(fc.nat({ max: 1 << 16 }), { nil: undefined });

/*
 * Encoders take untrusted JSON too (`vmstream encode`): a decoded document
 * with one node replaced by a hostile value must be encoded or refused with a
 * WireError — never a TypeError from a missing field or a RangeError from a
 * huge number.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values that break naive document readers. */
export const HOSTILE_JSON: readonly Json[] = [
  null,
  true,
  -1,
  0.5,
  2 ** 53,
  1e308,
  "",
  "-1",
  "18446744073709551616",
  "not base64 !",
  [],
  {},
  [null],
  // String() and `${}` on this throw TypeError (it is what JSON.parse makes of the text)
  JSON.parse('{"toString": 1, "valueOf": 1}') as Json,
  JSON.parse('{"__proto__": "x"}') as Json,
  "x".repeat(1000),
];

/** Paths (lists of keys/indexes) to every node of a JSON value, breadth-first, capped. */
export function jsonPaths(doc: Json, cap = 5000): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: [Json, (string | number)[]][] = [[doc, []]];
  while (queue.length && out.length < cap) {
    const [v, path] = queue.shift()!;
    out.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => queue.push([x, [...path, i]]));
    else if (v && typeof v === "object") for (const k of Object.keys(v)) queue.push([v[k]!, [...path, k]]);
  }
  return out;
}

export type JsonMutation = { path: (string | number)[]; op: "set"; value: Json } | { path: (string | number)[]; op: "delete" };

/** One hostile edit of a document (replace a node, or delete a key / array element). */
export function jsonMutation(doc: Json): fc.Arbitrary<JsonMutation> {
  const paths = jsonPaths(doc).filter((p) => p.length > 0);
  if (paths.length === 0) return fc.constant({ path: [], op: "set", value: null });
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ path: fc.constantFrom(...paths), op: fc.constant("set" as const), value: fc.constantFrom(...HOSTILE_JSON) }) },
    { weight: 1, arbitrary: fc.record({ path: fc.constantFrom(...paths), op: fc.constant("delete" as const) }) },
  );
}

export function applyJsonMutation(doc: Json, m: JsonMutation): Json {
  const copy = structuredClone(doc);
  if (m.path.length === 0) return m.op === "set" ? m.value : null;
  let parent: Json = copy;
  for (const k of m.path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[k]!;
  const last = m.path[m.path.length - 1]!;
  if (m.op === "delete") {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as Record<string, Json>)[last as string];
  } else if (Array.isArray(parent)) parent[Number(last)] = m.value;
  else Object.defineProperty(parent, last, { value: m.value, enumerable: true, writable: true, configurable: true });
  return copy;
}

/** Encode `doc`; a violation unless it succeeds or throws a WireError, within the time bound. */
export async function fuzzEncode(codec: FamilyCodec, doc: unknown, timeoutMs = 5000): Promise<FuzzViolation[]> {
  try {
    await bounded(codec.encode(doc, new CollectSink(0), {}), timeoutMs);
    return [];
  } catch (e) {
    if (e instanceof Timeout) return [{ family: codec.family, op: "encode", problem: `no result after ${e.ms} ms (hang)` }];
    if (e instanceof WireError) return [];
    return [{ family: codec.family, op: "encode", problem: `threw ${describe(e)} instead of a WireError`, thrown: e }];
  }
}
