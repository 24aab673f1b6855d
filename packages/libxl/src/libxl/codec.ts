import {
  type BatchedSink,
  batched,
  ByteWriter,
  type FamilyCodec,
  type Inspection,
  MalformedError,
  type Sink,
  type StreamReader,
  type VerifyReport,
  JsonWriter,
  fromBase64,
  jsonTextOf,
  toInt,
} from "@vmstream/framing";
import { readStreamedDocument } from "../doc-stream.js";
import { LIBXC_BYTES_KEYS, asArr, asObj, libxcHeaderFromJson, libxcHeaderJson, libxcRecordFromJson } from "../libxc/json.js";
import { type LibxcHeader, type LibxcRecord, LIBXC_REC as REC, domainTypeName } from "../libxc/model.js";
import type { LibxcReadMode, LibxcReader } from "../libxc/reader.js";
import { putLibxcRecord, writeLibxcHeader } from "../libxc/writer.js";
import { libxcRecordJson } from "../libxc/codec.js";
import { Summary } from "../summary.js";
import { identityRecode } from "../pass-through.js";
import type { LibxlRecord } from "./model.js";
import { type LibxlHeader, type LibxlItem, readLibxlHeader, walkLibxl } from "./reader.js";
import { writeLibxlHeader, writeLibxlRecord } from "./writer.js";
import { xenstoreFromJson, xenstoreJson } from "./xenstore.js";

/** A libxl stream in memory: libxl records with the libxc image's pieces in stream order. */
export type LibxlEntry = { libxl: LibxlRecord } | { libxcHeader: LibxcHeader } | { libxc: LibxcRecord };

export interface LibxlStream {
  options: number;
  entries: LibxlEntry[];
}

export function detectLibxl(head: Uint8Array): string | null {
  const magic = "LibxlFmt";
  if (head.byteLength < 16) return null;
  for (let i = 0; i < 8; i++) if (head[i] !== magic.charCodeAt(i)) return null;
  return "2";
}

/** JSON value of one libxl record. */
export function libxlRecordJson(rec: LibxlRecord): unknown {
  if (rec.type === "EMULATOR_XENSTORE_DATA") {
    return { type: rec.type, emulator_id: rec.emulator_id, index: rec.index, ...xenstoreJson(rec.entries) };
  }
  return rec;
}

function itemJson(it: LibxlItem): unknown {
  if (it.layer === "libxl") return libxlRecordJson(it.record!);
  if (it.layer === "libxc-header") return { libxc: { type: "HEADER", version: it.header.version, ...libxcHeaderJson(it.header) } };
  return { libxc: it.info.record };
}

export function libxlRecordFromJson(v: unknown, where: string): LibxlRecord {
  const o = asObj(v, where);
  switch (o.type) {
    case "END":
    case "LIBXC_CONTEXT":
    case "CHECKPOINT_END":
      return { type: o.type };
    case "EMULATOR_XENSTORE_DATA":
      return {
        type: o.type,
        emulator_id: toInt(o.emulator_id, `${where}.emulator_id`, 0, 0xffff_ffff),
        index: toInt(o.index ?? 0, `${where}.index`, 0, 0xffff_ffff),
        entries: xenstoreFromJson(o, where),
      };
    case "EMULATOR_CONTEXT":
      return {
        type: o.type,
        emulator_id: toInt(o.emulator_id, `${where}.emulator_id`, 0, 0xffff_ffff),
        index: toInt(o.index ?? 0, `${where}.index`, 0, 0xffff_ffff),
        data: fromBase64(o.data ?? "", `${where}.data`),
      };
    case "CHECKPOINT_STATE":
      return { type: o.type, control_id: toInt(o.control_id, `${where}.control_id`, 0, 0xffff_ffff) };
    case "OPTIONAL":
      return { type: o.type, code: toInt(o.code, `${where}.code`, 0x8000_0000, 0xffff_ffff), body: fromBase64(o.body ?? "", `${where}.body`) };
    default:
      throw new MalformedError(`${where}.type: unknown libxl record type`, 0, { found: JSON.stringify(o.type) });
  }
}

export function libxlEntriesFromJson(records: unknown): LibxlEntry[] {
  return asArr(records, "records").map((x, i) => libxlEntryFromJson(x, `records[${i}]`));
}

/** One item of a document's `records`: a libxl record, or `{libxc: …}` (the image header or a record). */
export function libxlEntryFromJson(x: unknown, where: string): LibxlEntry {
  const o = asObj(x, where);
  if (o.libxc === undefined) return { libxl: libxlRecordFromJson(o, where) };
  const inner = asObj(o.libxc, `${where}.libxc`);
  if (inner.type === "HEADER") {
    const v = toInt(inner.version, `${where}.libxc.version`, 2, 3) as 2 | 3;
    return { libxcHeader: libxcHeaderFromJson(inner, v) };
  }
  return { libxc: libxcRecordFromJson(inner, `${where}.libxc`) };
}

/** Members of a `records` item holding bytes, and the nested object (`libxc`) holding more. */
export const LIBXL_BYTES_KEYS: ReadonlySet<string> = new Set([...LIBXC_BYTES_KEYS, "data", "body"]);
export const LIBXL_NEST_KEYS: ReadonlySet<string> = new Set(["libxc"]);

/** Write one entry to a writer-backed sink. */
export function writeLibxlEntry(e: LibxlEntry, bs: BatchedSink, w: ByteWriter): void | Promise<void> {
  if ("libxc" in e) return putLibxcRecord(bs, w, e.libxc);
  w.reset();
  if ("libxl" in e) writeLibxlRecord(w, e.libxl);
  else writeLibxcHeader(w, e.libxcHeader);
  return bs.write(w.finish());
}

/**
 * `encode` of a libxl document (or, with `prefix`, an xl one: its header
 * bytes come first and the libxl members sit under `libxl`) from its text as
 * it streams: each record is written as soon as it is read.
 */
export async function encodeLibxlStream(input: StreamReader, out: Sink, xl?: (d: Record<string, unknown>) => Uint8Array): Promise<void> {
  const w = new ByteWriter(1 << 16);
  const bs = batched(out);
  const libxlOf = (d: Record<string, unknown>): Record<string, unknown> => (xl ? asObj(d.libxl, "libxl") : d);
  const where = xl ? "libxl." : "";
  await readStreamedDocument(input, {
    path: xl ? ["libxl", "records"] : ["records"],
    bytesKeys: LIBXL_BYTES_KEYS,
    nestKeys: LIBXL_NEST_KEYS,
    async begin(d) {
      if (xl) await bs.write(xl(d));
      else if (d.format !== "libxl@2") throw new MalformedError("format: expected libxl@2", 0, { found: JSON.stringify(d.format) });
      const options = toInt(libxlOf(d).options ?? 0, `${where}options`, 0, 3);
      await bs.write(writeLibxlHeader(w.reset(), { legacy: (options & 2) !== 0 }).finish());
    },
    item: (x, i) => writeLibxlEntry(libxlEntryFromJson(x, `${where}records[${i}]`), bs, w),
    async end(d, begun) {
      if (!begun) {
        if (xl) xl(d);
        libxlOf(d);
        throw new MalformedError(`${where}records: expected an array`, 0);
      }
      await bs.flush();
    },
  });
}

/** Write entries (header excluded) to a writer-backed sink. */
export async function writeLibxlEntries(entries: readonly LibxlEntry[], bs: BatchedSink, w: ByteWriter): Promise<void> {
  for (const e of entries) await writeLibxlEntry(e, bs, w);
}

export async function writeLibxl(s: LibxlStream, out: Sink): Promise<void> {
  const w = new ByteWriter(1 << 16);
  const bs = batched(out);
  await bs.write(writeLibxlHeader(w, { legacy: (s.options & 2) !== 0 }).finish());
  await writeLibxlEntries(s.entries, bs, w);
  await bs.flush();
}

/** Everything after the libxl header, read into memory. */
export async function readLibxlBody(r: StreamReader, notes: string[] = []): Promise<LibxlEntry[]> {
  const out: LibxlEntry[] = [];
  for await (const it of walkLibxl(r, "model", notes)) {
    if (it.layer === "libxl") out.push({ libxl: it.record! });
    else if (it.layer === "libxc-header") out.push({ libxcHeader: it.header });
    else out.push({ libxc: it.info.record! });
  }
  return out;
}

export async function readLibxl(r: StreamReader): Promise<LibxlStream> {
  const notes: string[] = [];
  const h = await readLibxlHeader(r, notes);
  return { options: h.options, entries: await readLibxlBody(r, notes) };
}

/**
 * The `"records": [...]` part of a document, written as it streams: page
 * contents go from the input's buffer straight into the writer as base64.
 */
export async function* libxlRecordsJson(w: JsonWriter, r: StreamReader, notes: string[]): AsyncGenerator<Uint8Array> {
  w.raw('"records": [');
  let first = true;
  for await (const it of walkLibxl(r, "stream", notes)) {
    w.raw(first ? "\n" : ",\n");
    first = false;
    if (it.layer === "libxc") {
      w.raw('{"libxc":');
      yield* libxcRecordJson(w, it.info.record!, it.reader);
      w.raw("}");
    } else w.value(itemJson(it));
    if (w.full) yield* w.drain();
  }
  w.raw("\n]");
}

async function* decodeLibxl(r: StreamReader): AsyncGenerator<Uint8Array> {
  const w = new JsonWriter();
  const notes: string[] = [];
  const h = await readLibxlHeader(r, notes);
  w.raw(`{"format": "libxl@2",\n"options": ${h.options},\n`);
  yield* libxlRecordsJson(w, r, notes);
  w.raw("}\n");
  yield* w.end();
}

/** Verify everything after the libxl header. */
export async function verifyLibxlBody(r: StreamReader, notes: string[], mode: LibxcReadMode = "verify", summary?: Summary): Promise<{ items: number; libxc: LibxcHeader | null; stats: LibxlStats }> {
  let items = 0;
  let libxc: LibxcHeader | null = null;
  let xc: LibxcReader | null = null;
  const stats: LibxlStats = { pfns: 0, dataPages: 0, pageRecords: 0, checkpoints: 0 };
  // Without a listing to fill, buffered libxc records are checked in bulk.
  for await (const it of walkLibxl(r, mode, notes, !summary)) {
    if (it.layer !== "libxc") items++;
    if (it.layer === "libxc-header") {
      libxc = it.header;
      xc = it.reader;
      summary?.add("libxc", "HEADER", it.offset, 40);
    } else if (it.layer === "libxl") summary?.add("libxl", it.name, it.offset, it.length);
    else {
      const i = it.info;
      summary?.add("libxc", i.name, i.offset, i.length, i.code === REC.PAGE_DATA ? i.pfns : undefined, i.dataPages);
    }
  }
  if (xc) {
    const s = xc.stats;
    items += s.records;
    Object.assign(stats, { pfns: s.pfns, dataPages: s.dataPages, pageRecords: s.pageRecords, checkpoints: s.checkpoints });
  }
  return { items, libxc, stats };
}

export interface LibxlStats {
  pfns: number;
  dataPages: number;
  pageRecords: number;
  checkpoints: number;
}

/** Verify a libxl stream from its header (the entry the legacy converter runs on its output). */
export async function verifyLibxl(r: StreamReader): Promise<VerifyReport> {
  const start = r.offset;
  const notes: string[] = [];
  await readLibxlHeader(r, notes);
  const { items } = await verifyLibxlBody(r, notes);
  return { format: "libxl@2", items, bytes: r.offset - start, notes };
}

/** Inspect from the libxl header; a fault is reported, not thrown. */
export async function inspectLibxlFrom(r: StreamReader, format: string, pre: string[] = [], preJson: Record<string, unknown> = {}): Promise<Inspection> {
  const s = new Summary();
  const notes: string[] = [];
  const start = r.offset;
  let header: LibxlHeader | null = null;
  let res: Awaited<ReturnType<typeof verifyLibxlBody>> | null = null;
  const stats: LibxlStats = { pfns: 0, dataPages: 0, pageRecords: 0, checkpoints: 0 };
  let libxc: LibxcHeader | null = null;
  try {
    header = await readLibxlHeader(r, notes);
    res = await verifyLibxlBody(r, notes, "verify", s);
  } catch (e) {
    s.catch(e);
  }
  if (res) {
    Object.assign(stats, res.stats);
    libxc = res.libxc;
  } else {
    // Partial: recount what the listing saw.
    for (const l of s.lines) {
      if (l.pfns !== undefined) {
        stats.pageRecords += l.records;
        stats.pfns += l.pfns;
        stats.dataPages += l.data_pages ?? 0;
      }
    }
  }
  const json = {
    format,
    ...preJson,
    libxl_options: header?.options ?? null,
    libxc_version: libxc?.version ?? null,
    domain_type: libxc ? domainTypeName(libxc.domainType) : null,
    page_size: libxc ? 2 ** libxc.pageShift : null,
    xen: libxc ? (libxc.xenMajor === 0 ? `legacy converter ${libxc.xenMinor}` : `${libxc.xenMajor}.${libxc.xenMinor}`) : null,
    bytes: r.offset - start,
    page_records: stats.pageRecords,
    pfns: stats.pfns,
    data_pages: stats.dataPages,
    listing: s.lines,
    notes,
    fault: s.fault,
  };
  const text = [
    `format       ${format}${header && header.options & 2 ? " (legacy-converted)" : ""}`,
    ...pre,
    `libxc        ${libxc ? `v${libxc.version}, ${json.domain_type}, page size ${json.page_size}, saved by Xen ${json.xen}` : "(none)"}`,
    `pages        ${stats.pageRecords} PAGE_DATA record(s), ${stats.pfns} pfn(s), ${stats.dataPages} page(s) of data (${stats.dataPages * 4096} bytes)`,
    "",
    ...s.table(),
    ...notes.map((n) => `note: ${n}`),
  ].join("\n");
  return s.finish({ format, json, text });
}

export const libxlCodec: FamilyCodec = {
  family: "libxl",
  versions: ["2"],
  detect: detectLibxl,
  inspect: (r) => inspectLibxlFrom(r, "libxl@2"),
  verify: (r) => verifyLibxl(r),
  decode: (r) => jsonTextOf(decodeLibxl(r)),
  decodeBytes: (r) => decodeLibxl(r),
  async encode(doc: unknown, out: Sink): Promise<void> {
    const d = asObj(doc, "document");
    if (d.format !== "libxl@2") throw new MalformedError("format: expected libxl@2", 0, { found: JSON.stringify(d.format) });
    await writeLibxl({ options: toInt(d.options ?? 0, "options", 0, 3), entries: libxlEntriesFromJson(d.records) }, out);
  },
  encodeStream: (json, out) => encodeLibxlStream(json, out),
  ...identityRecode((r) => verifyLibxl(r)),
};
