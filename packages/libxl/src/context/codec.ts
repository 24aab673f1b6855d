import {
  batched,
  type CodecOptions,
  type FamilyCodec,
  type FormatId,
  type Inspection,
  MalformedError,
  RefusedError,
  type Sink,
  type StreamReader,
  type VerifyReport,
  checkPadding,
  JsonWriter,
  fromBase64,
  jsonTextOf,
  toInt,
  toStr,
} from "@vmstream/framing";
import type { ContextRecord, ContextStream } from "./model.js";
import {
  type ContextDescriptor,
  type ContextHeaderInfo,
  detectContext,
  drainContextRecords,
  pendingRecordBytes,
  finishContextRecord,
  nextContextDescriptor,
  readContextDescriptor,
  readContextHeader,
  scratchDescriptor,
} from "./reader.js";
import { type ContextWriterHeader, checkRecordType, contextHeaderBytes, writeContext, writeContextDescriptor } from "./writer.js";
import { readStreamedDocument } from "../doc-stream.js";
import { identityRecode } from "../pass-through.js";
import { ByteWriter, padding8, zeroPadding } from "@vmstream/framing";

const asVersion = (v: string): "1" | "2" => {
  if (v !== "1" && v !== "2") throw new RefusedError(`context@${v} is not a known version`, 0, { expected: "1 or 2" });
  return v;
};

interface Walk {
  header: ContextHeaderInfo;
  /** Inspect's listing (empty for verify). */
  records: Array<{ index: number; offset: number; type: number; instance: number; length: number }>;
  /** Records before END. */
  count: number;
  end: number;
}

/** A record up to this size is read whole before it is checked; a larger one's body is skipped (a seek on files). */
const SMALL_RECORD = 256 << 10;

/** Walk every record, skipping bodies (seeks on files), checking every rule. */
async function walk(r: StreamReader, version: string, keep: boolean): Promise<Walk> {
  const header = await readContextHeader(r, asVersion(version));
  const records: Walk["records"] = [];
  const seen = keep ? (d: ContextDescriptor) => records.push({ index: d.index, offset: d.offset, type: d.type, instance: d.instance, length: d.length }) : undefined;
  const scratch = scratchDescriptor();
  let i = 0;
  for (;;) {
    // Whole buffered records are checked in bulk; the loop below takes the one that straddles a refill, and END.
    i += drainContextRecords(r, header, i, scratch, seen);
    // It stopped at a record not wholly buffered: a small one (the usual case)
    // is refilled and drained on, so a chunk costs one await, not one per record.
    const more = pendingRecordBytes(r, header, SMALL_RECORD);
    if (more > r.buffered && (await r.fill(more))) continue;
    let d = nextContextDescriptor(r, header, i, scratch);
    if (d instanceof Promise) d = await d;
    if (!d) break;
    const pad = padding8(d.length);
    if (d.length + pad <= r.buffered) {
      r.discard(d.length);
      if (!r.skipZeros(pad)) checkPadding(r.take(pad), d.bodyOffset + d.length, `record[${d.index}]`);
    } else {
      await r.skip(d.length, `record[${i}] body`);
      await finishContextRecord(r, d);
    }
    seen?.(d);
    i++;
  }
  return { header, records, count: i, end: r.offset };
}

function recordName(type: number): string {
  return type === 0 ? "END" : type === 1 ? "HEADER" : `type ${type}`;
}

/** Read a whole stream into memory (small streams, tests, the compat matrix). */
export async function readContext(r: StreamReader, version?: "1" | "2"): Promise<ContextStream> {
  const h = await readContextHeader(r, version);
  const records: ContextRecord[] = [];
  for (let i = 0; ; i++) {
    const d = await readContextDescriptor(r, h, i);
    if (!d) break;
    await r.need(d.length, `record[${i}] body`);
    const body = r.take(d.length).slice();
    await finishContextRecord(r, d);
    records.push({ type: d.type, instance: d.instance, body });
  }
  return { version: h.version, xenMajor: h.xenMajor, xenMinor: h.xenMinor, bigEndian: h.bigEndian, records };
}

/** Parse a decoded JSON document back into a stream value. */
export function contextFromJson(doc: unknown): ContextStream {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) throw new MalformedError("document: expected an object", 0);
  const d = doc as Record<string, unknown>;
  const h = contextDocHeader(d);
  if (!Array.isArray(d.records)) throw new MalformedError("records: expected an array", 0);
  return { ...h, records: d.records.map((x, i) => contextRecordFromJson(x, i, h.version)) };
}

/** The stream header a document's top-level members describe. */
function contextDocHeader(d: Record<string, unknown>): ContextWriterHeader {
  const m = /^context@([12])$/.exec(toStr(d.format, "format"));
  if (!m) throw new MalformedError("format: expected context@1 or context@2", 0, { found: JSON.stringify(d?.format) });
  const version = Number(m[1]) as 1 | 2;
  const bigEndian = d.big_endian === true;
  if (version === 1 && bigEndian) throw new MalformedError("big_endian: context@1 records are little-endian", 0);
  return { version, xenMajor: toInt(d.xen_major, "xen_major", 0, 0xffff), xenMinor: toInt(d.xen_minor, "xen_minor", 0, 0xffff), bigEndian };
}

function contextRecordFromJson(x: unknown, i: number, version: 1 | 2): ContextRecord {
  if (x === null || typeof x !== "object" || Array.isArray(x)) throw new MalformedError(`records[${i}]: expected an object`, 0);
  const max = version === 1 ? 0xffff : 0xffff_ffff;
  const rec = x as Record<string, unknown>;
  const body = fromBase64(rec.body ?? "", `records[${i}].body`);
  if (rec.length !== undefined && toInt(rec.length, `records[${i}].length`) !== body.byteLength) {
    throw new MalformedError(`records[${i}].length does not match its body (${body.byteLength} bytes)`, 0);
  }
  return { type: toInt(rec.type, `records[${i}].type`, 2, max), instance: toInt(rec.instance, `records[${i}].instance`, 0, max), body };
}

const BODY: ReadonlySet<string> = new Set(["body"]);

/** `encode` from the document's text as it streams: each record is written as soon as it is read. */
async function encodeContextStream(input: StreamReader, sink: Sink): Promise<void> {
  const out = batched(sink);
  const w = new ByteWriter(16);
  let h: ContextWriterHeader | null = null;
  await readStreamedDocument(input, {
    path: ["records"],
    bytesKeys: BODY,
    begin(d) {
      h = contextDocHeader(d);
      return out.write(contextHeaderBytes(h));
    },
    async item(x, i) {
      const rec = contextRecordFromJson(x, i, h!.version);
      checkRecordType(rec.type, i);
      writeContextDescriptor(w.reset(), h!, rec.type, rec.instance, rec.body.byteLength, i);
      await out.write(w.finish());
      await out.write(rec.body);
      const pad = padding8(rec.body.byteLength);
      if (pad) await out.write(zeroPadding(pad));
    },
    async end(d, begun) {
      if (!begun) {
        contextDocHeader(d);
        throw new MalformedError("records: expected an array", 0);
      }
      writeContextDescriptor(w.reset(), h!, 0, 0, 0);
      await out.write(w.finish());
      await out.flush();
    },
  });
}

async function* decodeContext(r: StreamReader, version: string): AsyncGenerator<Uint8Array> {
  const w = new JsonWriter();
  const h = await readContextHeader(r, asVersion(version));
  w.raw(`{\n  "format": "context@${h.version}",\n  "xen_major": ${h.xenMajor},\n  "xen_minor": ${h.xenMinor},\n`);
  if (h.version === 2) w.raw(`  "big_endian": ${h.bigEndian},\n`);
  w.raw(`  "records": [`);
  for (let i = 0; ; i++) {
    const d = await readContextDescriptor(r, h, i);
    if (!d) break;
    w.raw(`${i ? "," : ""}\n    {"offset": ${d.offset}, "type": ${d.type}, "instance": ${d.instance}, "length": ${d.length}, "body": "`);
    // The body goes from the input's buffer straight into the writer as base64.
    yield* w.base64Of(r, d.length, `record[${i}] body`);
    w.raw(`"}`);
    await finishContextRecord(r, d);
    if (w.full) yield* w.drain();
  }
  w.raw(`\n  ]\n}\n`);
  yield* w.end();
}

/**
 * Stream records from one layout to another (recode when `to` equals the
 * input's version). Bodies pass through in pieces; a record the target cannot
 * hold is refused by name before any of its bytes are written.
 */
async function transcode(r: StreamReader, version: string, to: { version: 1 | 2; bigEndian?: boolean }, sink: Sink): Promise<void> {
  const h = await readContextHeader(r, asVersion(version));
  const bigEndian = to.bigEndian ?? (to.version === 2 ? h.bigEndian : false);
  if (to.version === 1 && h.bigEndian) {
    throw new RefusedError("context@1 cannot hold big-endian records (options bit 0 is set)", 8);
  }
  const oh = { version: to.version, xenMajor: h.xenMajor, xenMinor: h.xenMinor, bigEndian };
  // Pieces go straight to a coalescing sink (the output file copies them into
  // its own large buffers), awaited only when it asks: bodies are copied once.
  const out = batched(sink);
  const w = new ByteWriter(16);
  let p = out.write(contextHeaderBytes(oh));
  if (p) await p;
  const scratch = scratchDescriptor();
  for (let i = 0; ; i++) {
    let d = nextContextDescriptor(r, h, i, scratch);
    if (d instanceof Promise) d = await d;
    if (!d) break;
    try {
      writeContextDescriptor(w.reset(), oh, d.type, d.instance, d.length, i);
    } catch (e) {
      if (e instanceof RefusedError) e.offset = d.offset;
      throw e;
    }
    if ((p = out.write(w.finish()))) await p;
    const pad = padding8(d.length);
    if (d.length + pad <= r.buffered) {
      if ((p = out.write(r.take(d.length)))) await p;
      if (!r.skipZeros(pad)) checkPadding(r.take(pad), d.bodyOffset + d.length, `record[${d.index}]`);
    } else {
      await r.pipe(d.length, out, `record[${i}] body`);
      await finishContextRecord(r, d);
    }
    if (pad && (p = out.write(zeroPadding(pad)))) await p;
  }
  writeContextDescriptor(w.reset(), oh, 0, 0, 0);
  if ((p = out.write(w.finish()))) await p;
  await out.flush();
}




function inspectText(w: Walk, size: number): string {
  const h = w.header;
  const lines = [
    `format      context@${h.version}`,
    `xen         ${h.xenMajor}.${h.xenMinor}`,
    `byte order  ${h.bigEndian ? "big-endian" : "little-endian"} records`,
    `records     ${w.records.length} + END, ${size} bytes`,
    "",
    "  #  offset      type        instance    length",
  ];
  for (const r of w.records) {
    lines.push(
      `${String(r.index).padStart(3)}  ${`0x${r.offset.toString(16)}`.padEnd(10)}  ${recordName(r.type).padEnd(10)}  ${String(r.instance).padEnd(10)}  ${r.length}`,
    );
  }
  lines.push(`     ${`0x${(w.end - (h.version === 1 ? 8 : 16)).toString(16)}`.padEnd(10)}  END`);
  return lines.join("\n");
}

export const contextCodec: FamilyCodec = {
  family: "context",
  versions: ["1", "2"],
  detect: detectContext,

  async inspect(r: StreamReader, version: string): Promise<Inspection> {
    const w = await walk(r, version, true);
    const h = w.header;
    return {
      format: `context@${h.version}`,
      json: {
        format: `context@${h.version}`,
        xen_major: h.xenMajor,
        xen_minor: h.xenMinor,
        byte_order: h.bigEndian ? "big-endian" : "little-endian",
        size: w.end,
        records: w.records.map((x) => ({ ...x, name: recordName(x.type) })),
      },
      text: inspectText(w, w.end),
    };
  },

  async verify(r: StreamReader, version: string): Promise<VerifyReport> {
    const w = await walk(r, version, false);
    return { format: `context@${w.header.version}`, items: w.count + 1, bytes: w.end, notes: [] };
  },

  decode(r: StreamReader, version: string): AsyncIterable<string> {
    return jsonTextOf(decodeContext(r, version));
  },
  decodeBytes(r: StreamReader, version: string): AsyncIterable<Uint8Array> {
    return decodeContext(r, version);
  },

  async encode(doc: unknown, out: Sink): Promise<void> {
    const s = contextFromJson(doc);
    s.records.forEach((x, i) => checkRecordType(x.type, i));
    const b = batched(out);
    await writeContext(s, b);
    await b.flush();
  },

  encodeStream: (json: StreamReader, out: Sink) => encodeContextStream(json, out),

  ...identityRecode((r, version) => walk(r, version, false)),

  async convert(r: StreamReader, version: string, to: FormatId, out: Sink, _opts: CodecOptions): Promise<void> {
    if (to.family !== "context") throw new RefusedError(`context@${version} converts only to another context version, not ${to.family}`);
    const target = asVersion(to.version);
    await transcode(r, version, { version: Number(target) as 1 | 2 }, out);
  },

  convertTargets(version: string): FormatId[] {
    return [{ family: "context", version: version === "1" ? "2" : "1" }];
  },
};

