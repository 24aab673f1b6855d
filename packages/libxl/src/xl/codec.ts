import {
  batched,
  ByteWriter,
  type FamilyCodec,
  MalformedError,
  type Sink,
  type StreamReader,
  type VerifyReport,
  JsonWriter,
  fromBase64,
  jsonTextOf,
  toBase64,
  toInt,
} from "@vmstream/framing";
import { asObj } from "../libxc/json.js";
import { identityRecode } from "../pass-through.js";
import { type LibxlStream, encodeLibxlStream, inspectLibxlFrom, libxlEntriesFromJson, libxlRecordsJson, readLibxl, verifyLibxlBody, writeLibxlEntries } from "../libxl/codec.js";
import { readLibxlHeader } from "../libxl/reader.js";
import { writeLibxlHeader } from "../libxl/writer.js";
import { XL_FLAG_STREAMV2, type XlHeader, configText, readXlHeader, writeXlHeader, xlFlags } from "./header.js";

export function detectXl(head: Uint8Array): string | null {
  const f = xlFlags(head);
  // Without STREAMv2 the payload is a legacy stream: the legacy family's.
  return f !== null && f & XL_FLAG_STREAMV2 ? "1" : null;
}

export function xlHeaderJson(h: XlHeader): Record<string, unknown> {
  const o: Record<string, unknown> = { mandatory_flags: h.mandatoryFlags, optional_flags: h.optionalFlags };
  if (h.config === null) o.config = null;
  else {
    const t = configText(h.config);
    if (t !== null) o.config = t;
    else o.config_base64 = toBase64(h.config);
    if (h.extra.byteLength) o.optional_extra = toBase64(h.extra);
  }
  return o;
}

export function xlHeaderFromJson(d: Record<string, unknown>): XlHeader {
  let config: Uint8Array | null = null;
  if (typeof d.config === "string") config = new TextEncoder().encode(`${d.config}\0`);
  else if (d.config_base64 !== undefined) config = fromBase64(String(d.config_base64), "config_base64");
  else if (d.config !== null && d.config !== undefined) throw new MalformedError("config: expected a string or null", 0);
  return {
    mandatoryFlags: toInt(d.mandatory_flags, "mandatory_flags", 0, 0xffff_ffff),
    optionalFlags: toInt(d.optional_flags ?? 0, "optional_flags", 0, 0xffff_ffff),
    config,
    extra: d.optional_extra === undefined ? new Uint8Array(0) : fromBase64(String(d.optional_extra), "optional_extra"),
  };
}

/** The xl header bytes a document's top-level members describe. */
function xlDocHeaderBytes(d: Record<string, unknown>): Uint8Array {
  if (d.format !== "xl@1") throw new MalformedError("format: expected xl@1", 0, { found: JSON.stringify(d.format) });
  return writeXlHeader(new ByteWriter(256), xlHeaderFromJson(d)).finish();
}

export interface XlFile {
  header: XlHeader;
  libxl: LibxlStream;
}

export async function readXl(r: StreamReader): Promise<XlFile> {
  const header = await readXlHeader(r, []);
  return { header, libxl: await readLibxl(r) };
}

export async function writeXl(f: XlFile, out: Sink): Promise<void> {
  const w = new ByteWriter(1 << 16);
  const bs = batched(out);
  await bs.write(writeXlHeader(w, f.header).finish());
  await bs.write(writeLibxlHeader(w.reset(), { legacy: (f.libxl.options & 2) !== 0 }).finish());
  await writeLibxlEntries(f.libxl.entries, bs, w);
  await bs.flush();
}

/** Verify an xl save file: its header, then the libxl stream. */
export async function verifyXl(r: StreamReader): Promise<VerifyReport> {
  const start = r.offset;
  const notes: string[] = [];
  await readXlHeader(r, notes);
  await readLibxlHeader(r, notes);
  const { items } = await verifyLibxlBody(r, notes);
  return { format: "xl@1", items: items + 1, bytes: r.offset - start, notes };
}

async function* decodeXl(r: StreamReader): AsyncGenerator<Uint8Array> {
  const w = new JsonWriter();
  const notes: string[] = [];
  const h = await readXlHeader(r, notes);
  const lh = await readLibxlHeader(r, notes);
  w.raw('{"format":"xl@1"');
  for (const [k, v] of Object.entries(xlHeaderJson(h))) w.raw(`,${JSON.stringify(k)}:`).value(v);
  w.raw(`,\n"libxl": {"options": ${lh.options},\n`);
  yield* libxlRecordsJson(w, r, notes);
  w.raw("}}\n");
  yield* w.end();
}

export const xlCodec: FamilyCodec = {
  family: "xl",
  versions: ["1"],
  detect: detectXl,
  async inspect(r: StreamReader) {
    const notes: string[] = [];
    const h = await readXlHeader(r, notes);
    const cfg = h.config === null ? "none" : `${h.config.byteLength} bytes${configText(h.config) !== null ? " of JSON" : ""}`;
    const ins = await inspectLibxlFrom(r, "xl@1", [`xl           mandatory flags ${h.mandatoryFlags}, optional flags ${h.optionalFlags}, config ${cfg}`], {
      mandatory_flags: h.mandatoryFlags,
      optional_flags: h.optionalFlags,
      config_bytes: h.config?.byteLength ?? null,
    });
    (ins.json as { notes: string[] }).notes.unshift(...notes);
    return ins;
  },
  verify: (r) => verifyXl(r),
  decode: (r) => jsonTextOf(decodeXl(r)),
  decodeBytes: (r) => decodeXl(r),
  async encode(doc: unknown, out: Sink): Promise<void> {
    const d = asObj(doc, "document");
    if (d.format !== "xl@1") throw new MalformedError("format: expected xl@1", 0, { found: JSON.stringify(d.format) });
    const l = asObj(d.libxl, "libxl");
    await writeXl({ header: xlHeaderFromJson(d), libxl: { options: toInt(l.options ?? 0, "libxl.options", 0, 3), entries: libxlEntriesFromJson(l.records) } }, out);
  },
  encodeStream: (json, out) => encodeLibxlStream(json, out, xlDocHeaderBytes),
  ...identityRecode((r) => verifyXl(r)),
};
