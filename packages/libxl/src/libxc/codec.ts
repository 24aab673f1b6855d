import {
  batched,
  ByteWriter,
  type FamilyCodec,
  type FormatId,
  type Inspection,
  MalformedError,
  RefusedError,
  type Sink,
  type StreamReader,
  TruncatedError,
  type VerifyReport,
  fromBase64,
  JsonWriter,
  jsonText,
  jsonTextOf,
  toStr,
} from "@vmstream/framing";
import { Summary } from "../summary.js";
import { identityRecode } from "../pass-through.js";
import { readStreamedDocument } from "../doc-stream.js";
import { LIBXC_BYTES_KEYS, asArr, asObj, libxcHeaderFromJson, libxcHeaderJson, libxcRecordFromJson } from "./json.js";
import { type LibxcHeader, type LibxcRecord, LIBXC_REC as REC, domainTypeName } from "./model.js";
import { type LibxcReadMode, type LibxcRecordInfo, LibxcReader } from "./reader.js";
import { type QemuTail, qemuTailBytes, readAfterEnd } from "./tail.js";
import { putLibxcRecord, writeLibxcHeader, writeLibxcRecord, writePageDataHead } from "./writer.js";

/** The version a head of bytes announces, if it is a libxc image. */
export function detectLibxc(head: Uint8Array): string | null {
  if (head.byteLength < 16) return null;
  for (let i = 0; i < 8; i++) if (head[i] !== 0xff) return null;
  if (head[8] !== 0x58 || head[9] !== 0x45 || head[10] !== 0x4e || head[11] !== 0x46) return null;
  const v = ((head[12]! << 24) | (head[13]! << 16) | (head[14]! << 8) | head[15]!) >>> 0;
  // An unknown version is still ours: the reader then names it.
  return v === 2 ? "2" : "3";
}

const checkVersion = (h: LibxcHeader, want: string | undefined): void => {
  if (want !== undefined && String(h.version) !== want) {
    throw new MalformedError(`the stream is libxc@${h.version}, not libxc@${want}`, 12, { path: "image_header.version" });
  }
};

/**
 * Walk a standalone libxc image: headers, records to END, then what may follow
 * END. `visit` sees each record before its page contents are consumed.
 */
export async function walkLibxc(
  r: StreamReader,
  want: string | undefined,
  mode: LibxcReadMode,
  visit?: (info: LibxcRecordInfo, x: LibxcReader) => Promise<void> | void,
  onHeader?: (h: LibxcHeader) => Promise<void> | void,
): Promise<{ reader: LibxcReader; tail: QemuTail | null }> {
  const x = new LibxcReader(r);
  const h = await x.readHeader();
  checkVersion(h, want);
  await onHeader?.(h);
  // Plain verification drains whole buffered records synchronously between reads.
  const fast = mode === "verify" && !visit;
  while (!x.ended) {
    if (fast) {
      x.drainVerify();
      if (x.ended) break;
    }
    const info = await x.next(mode);
    if (!info) throw new TruncatedError("libxc stream: it ends without an END record", r.offset, 8, 0);
    if (visit) await visit(info, x);
    if (fast && x.pendingPages.bytes) await x.skipPages();
  }
  const tail = await readAfterEnd(r, h, mode !== "verify");
  if (tail) x.notes.push(`legacy QEMU record (${tail.signature}, ${tail.data.byteLength} bytes) after END, as convert-legacy-stream writes it`);
  return { reader: x, tail };
}

/** Verify a libxc image (the entry the legacy converter runs on its output). */
export async function verifyLibxc(r: StreamReader, version?: string): Promise<VerifyReport> {
  const start = r.offset;
  const { reader } = await walkLibxc(r, version, "verify");
  return { format: `libxc@${reader.header!.version}`, items: reader.stats.records, bytes: r.offset - start, notes: reader.notes };
}

export interface LibxcImage {
  header: LibxcHeader;
  records: LibxcRecord[];
  qemuTail: QemuTail | null;
}

/** Read a whole image into memory (small streams, tests, the compat matrix). */
export async function readLibxc(r: StreamReader, version?: string): Promise<LibxcImage> {
  const records: LibxcRecord[] = [];
  const { reader, tail } = await walkLibxc(r, version, "model", (i) => {
    records.push(i.record!);
  });
  return { header: reader.header!, records, qemuTail: tail };
}

/** Write a whole image held in memory. */
export async function writeLibxc(img: LibxcImage, out: Sink): Promise<void> {
  const w = new ByteWriter(1 << 16);
  const bs = batched(out);
  await bs.write(writeLibxcHeader(w, img.header).finish());
  for (const rec of img.records) await bs.write(writeLibxcRecord(w.reset(), rec).finish());
  if (img.qemuTail) await bs.write(qemuTailBytes(img.qemuTail));
  await bs.flush();
}

export function libxcDocJson(img: LibxcImage): unknown {
  const doc: Record<string, unknown> = { format: `libxc@${img.header.version}`, ...libxcHeaderJson(img.header), records: img.records };
  if (img.qemuTail) doc.qemu_tail = { signature: img.qemuTail.signature, data: img.qemuTail.data };
  return JSON.parse(jsonText(doc));
}

export function libxcFromJson(doc: unknown): LibxcImage {
  const d = asObj(doc, "document");
  const header = libxcDocHeader(d);
  const records = asArr(d.records, "records").map((x, i) => libxcRecordFromJson(x, `records[${i}]`));
  return { header, records, qemuTail: libxcDocTail(d) };
}

/** The image header a document's top-level members describe. */
function libxcDocHeader(d: Record<string, unknown>): LibxcHeader {
  const m = /^libxc@([23])$/.exec(toStr(d.format, "format"));
  if (!m) throw new MalformedError("format: expected libxc@2 or libxc@3", 0, { found: JSON.stringify(d.format) });
  return libxcHeaderFromJson(d, Number(m[1]) as 2 | 3);
}

function libxcDocTail(d: Record<string, unknown>): QemuTail | null {
  if (d.qemu_tail === undefined) return null;
  const t = asObj(d.qemu_tail, "qemu_tail");
  return { signature: toStr(t.signature, "qemu_tail.signature"), data: fromBase64(t.data, "qemu_tail.data") };
}

/**
 * `encode` from the document's text as it streams: the header is written
 * when `records` opens, each record as soon as it is read (its page data
 * decoded straight from the text), so a document of any size (a 512 MiB
 * guest is ~700 MB of JSON, beyond a JavaScript string) encodes in bounded
 * memory.
 */
export async function encodeLibxcStream(input: StreamReader, out: Sink): Promise<void> {
  const w = new ByteWriter(1 << 16);
  const bs = batched(out);
  await readStreamedDocument(input, {
    path: ["records"],
    bytesKeys: LIBXC_BYTES_KEYS,
    begin: (d) => bs.write(writeLibxcHeader(w.reset(), libxcDocHeader(d)).finish()),
    item: (rec, i) => putLibxcRecord(bs, w, libxcRecordFromJson(rec, `records[${i}]`)),
    async end(d, begun) {
      if (!begun) {
        libxcDocHeader(d);
        throw new MalformedError("records: expected an array", 0);
      }
      const tail = libxcDocTail(d);
      if (tail) await bs.write(qemuTailBytes(tail));
      await bs.flush();
    },
  });
}

/**
 * One libxc record into a document: its JSON value, but PAGE_DATA's page
 * contents go from the input's buffer straight into the writer as base64.
 */
export async function* libxcRecordJson(w: JsonWriter, rec: LibxcRecord, x: LibxcReader): AsyncGenerator<Uint8Array> {
  if (rec.type !== "PAGE_DATA") {
    w.value(rec);
    return;
  }
  w.raw('{"type":"PAGE_DATA","pages":[');
  const pages = rec.pages;
  for (let i = 0; i < pages.length; i++) w.raw(`${i ? "," : ""}{"pfn":${pages[i]!.pfn},"type":"${pages[i]!.type}"}`);
  w.raw('],"data":"');
  yield* x.pagesBase64(w);
  w.raw('"}');
}

async function* decodeLibxc(r: StreamReader, version: string): AsyncGenerator<Uint8Array> {
  const w = new JsonWriter();
  const x = new LibxcReader(r);
  const h = await x.readHeader();
  checkVersion(h, version);
  w.raw(`{"format":"libxc@${h.version}"`);
  for (const [k, v] of Object.entries(libxcHeaderJson(h))) w.raw(`,"${k}":`).value(v);
  w.raw(',\n"records": [');
  let first = true;
  while (!x.ended) {
    const info = await x.next("stream");
    if (!info) throw new TruncatedError("libxc stream: it ends without an END record", r.offset, 8, 0);
    w.raw(first ? "\n" : ",\n");
    yield* libxcRecordJson(w, info.record!, x);
    if (w.full) yield* w.drain();
    first = false;
  }
  const tail = await readAfterEnd(r, h, true);
  w.raw("\n]");
  if (tail) w.raw(',\n"qemu_tail": ').value({ signature: tail.signature, data: tail.data });
  w.raw("}\n");
  yield* w.end();
}

/**
 * Stream records from the input to `out`, re-encoding each through the writer
 * (page contents are piped). `toVersion` 3 from a v2 input inserts
 * STATIC_DATA_END before the first record carrying memory or register
 * content; 2 from a v3 input drops it and refuses what v2 cannot hold.
 */
async function transcodeLibxc(r: StreamReader, version: string, out: Sink, toVersion: 2 | 3): Promise<void> {
  const bs = batched(out);
  const w = new ByteWriter(1 << 16);
  let target: 2 | 3 = 3;
  let sdePending = false;
  let sdeJustWritten = false;
  const emit = async (rec: LibxcRecord) => bs.write(writeLibxcRecord(w.reset(), rec).finish());
  const { tail } = await walkLibxc(
    r,
    version,
    "stream",
    async (info, x) => {
      const rec = info.record!;
      if (target === 2 && x.header!.version === 3) {
        if (info.code === REC.X86_CPUID_POLICY || info.code === REC.X86_MSR_POLICY) {
          throw new RefusedError(`libxc@2 cannot carry ${info.name} (record at offset ${info.offset}); converting would lose the guest's CPU policy`, info.offset);
        }
        if (info.code === REC.STATIC_DATA_END) {
          sdeJustWritten = true;
          return;
        }
        if (sdeJustWritten && !DYNAMIC_OR_END.has(info.code)) {
          throw new RefusedError(
            `STATIC_DATA_END is followed by ${info.name} (offset ${info.offset}), so its position could not be inferred again from a v2 stream`,
            info.offset,
          );
        }
        sdeJustWritten = false;
      }
      if (sdePending && DYNAMIC_OR_END.has(info.code)) {
        await emit({ type: "STATIC_DATA_END" });
        sdePending = false;
      }
      if (rec.type === "PAGE_DATA") {
        await bs.write(writePageDataHead(w.reset(), rec.pages).finish());
        await x.pipePages(bs);
      } else await emit(rec);
    },
    async (h) => {
      target = toVersion;
      if (target === 3 && h.version === 2) sdePending = true;
      await bs.write(writeLibxcHeader(w.reset(), { ...h, version: target }).finish());
    },
  );
  if (tail) await bs.write(qemuTailBytes(tail));
  await bs.flush();
}

/** Records that mark the static-data boundary when upgrading (memory or register content, or END). */
const DYNAMIC_OR_END = new Set<number>([
  REC.END, REC.PAGE_DATA, REC.X86_PV_P2M_FRAMES, REC.X86_PV_VCPU_BASIC, REC.X86_PV_VCPU_EXTENDED, REC.X86_PV_VCPU_XSAVE,
  REC.SHARED_INFO, REC.X86_TSC_INFO, REC.HVM_CONTEXT, REC.HVM_PARAMS, REC.X86_PV_VCPU_MSRS, REC.VERIFY, REC.CHECKPOINT,
]);

export async function inspectLibxc(r: StreamReader, version: string): Promise<Inspection> {
  const s = new Summary();
  let x: LibxcReader | null = null;
  let header: LibxcHeader | null = null;
  const start = r.offset;
  try {
    const res = await walkLibxc(
      r,
      version,
      "verify",
      (i, rd) => {
        x = rd;
        s.add("libxc", i.name, i.offset, i.length, i.code === REC.PAGE_DATA ? i.pfns : undefined, i.dataPages);
      },
      (h) => {
        header = h;
      },
    );
    x = res.reader;
  } catch (e) {
    s.catch(e);
  }
  return libxcInspection(header, x, s, r.offset - start, `libxc@${version}`);
}

export function libxcInspection(header: LibxcHeader | null, x: LibxcReader | null, s: Summary, bytes: number, fallback: string): Inspection {
  const h = header as LibxcHeader | null;
  const format = h ? `libxc@${h.version}` : fallback;
  const stats = (x as LibxcReader | null)?.stats;
  const json = {
    format,
    domain_type: h ? domainTypeName(h.domainType) : null,
    page_size: h ? 2 ** h.pageShift : null,
    xen: h ? (h.xenMajor === 0 ? `legacy converter ${h.xenMinor}` : `${h.xenMajor}.${h.xenMinor}`) : null,
    bytes,
    records: stats?.records ?? 0,
    page_records: stats?.pageRecords ?? 0,
    pfns: stats?.pfns ?? 0,
    data_pages: stats?.dataPages ?? 0,
    checkpoints: stats?.checkpoints ?? 0,
    listing: s.lines,
    notes: (x as LibxcReader | null)?.notes ?? [],
    fault: s.fault,
  };
  const text = [
    `format       ${format}`,
    `domain       ${json.domain_type ?? "?"}, page size ${json.page_size ?? "?"}, saved by Xen ${json.xen ?? "?"}`,
    `records      ${json.records} in ${bytes} bytes`,
    `pages        ${json.page_records} PAGE_DATA record(s), ${json.pfns} pfn(s), ${json.data_pages} page(s) of data (${json.data_pages * 4096} bytes)`,
    "",
    ...s.table(),
    ...json.notes.map((n) => `note: ${n}`),
  ].join("\n");
  return s.finish({ format, json, text });
}

export const libxcCodec: FamilyCodec = {
  family: "libxc",
  versions: ["2", "3"],
  detect: detectLibxc,
  inspect: (r, version) => inspectLibxc(r, version),
  verify: (r, version) => verifyLibxc(r, version),
  decode: (r, version) => jsonTextOf(decodeLibxc(r, version)),
  decodeBytes: (r, version) => decodeLibxc(r, version),
  async encode(doc: unknown, out: Sink): Promise<void> {
    await writeLibxc(libxcFromJson(doc), out);
  },
  encodeStream: (json, out) => encodeLibxcStream(json, out),
  ...identityRecode((r, version) => walkLibxc(r, version, "verify")),
  async convert(r: StreamReader, version: string, to: FormatId, out: Sink): Promise<void> {
    if (to.family !== "libxc" || (to.version !== "2" && to.version !== "3")) {
      throw new RefusedError(`libxc@${version} converts only to libxc@2 or libxc@3, not ${to.family}@${to.version}`);
    }
    await transcodeLibxc(r, version, out, Number(to.version) as 2 | 3);
  },
  convertTargets: (version: string): FormatId[] => [{ family: "libxc", version: version === "2" ? "3" : "2" }],
};

