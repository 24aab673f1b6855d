import {
  ByteWriter,
  batched,
  JsonWriter,
  MalformedError,
  jsonText,
  jsonTextOf,
  type CodecOptions,
  type FamilyCodec,
  type FormatId,
  type Inspection,
  type Sink,
  type StreamReader,
  type VerifyReport,
} from "@vmstream/framing";
import { readStreamedDocument } from "@vmstream/libxl";
import { convertLegacy } from "./convert.js";
import { itemFromJson, itemJson, hasData, writeItemHead } from "./items.js";
import { MAX_TOOLSTACK_BLOB, describePhysmap, parsePhysmap } from "./physmap.js";
import { openLegacy, walkLegacy, type LegacyItem, type LegacyShape } from "./reader.js";
import { detectLegacy, type Width } from "./shape.js";

const fmt = (w: Width) => `legacy@${w}`;
/** Chunks listed one by one by inspect. */
const MAX_LISTED = 10_000;

/** Everything `inspect --json` reports about a legacy image. */
export interface LegacySummary {
  format: string;
  width: Width;
  guest: "pv" | "hvm";
  xl: { mandatory_flags: number; optional_data: number } | null;
  p2m_size: number;
  guest_width: number | null;
  batches: number;
  pages: number;
  filler_entries: number;
  /** The first MAX_LISTED chunks (`chunks_total` counts them all). */
  chunks: { offset: number; id: number; name: string; size?: number; value?: string }[];
  chunks_total: number;
  toolstack: { offset: number; size: number; physmap: ReturnType<typeof describePhysmap>[] | null } | null;
  tail:
    | { type: "hvm"; ioreq_pfn: string; bufioreq_pfn: string; store_pfn: string; hvm_context: number }
    | { type: "pv"; unmapped_pfns: number; vcpus: number[]; vcpu_context: number; extended: boolean; xsave: number }
    | null;
  qemu: { offset: number; signature: string; size: number } | null;
  bytes: number;
  notes: string[];
}

/** Walk the whole image (payloads skipped), gathering a summary; every structural rule is checked on the way. */
export async function summarize(r: StreamReader, version: string, opts: CodecOptions): Promise<LegacySummary> {
  const shape = await openLegacy(r, version, opts);
  const s: LegacySummary = {
    format: fmt(shape.width),
    width: shape.width,
    guest: shape.guest,
    xl: null,
    p2m_size: 0,
    guest_width: null,
    batches: 0,
    pages: 0,
    filler_entries: 0,
    chunks: [],
    chunks_total: 0,
    toolstack: null,
    tail: null,
    qemu: null,
    bytes: 0,
    notes: [],
  };
  let online: number[] | null = null;
  const startOffset = r.offset;
  // A hostile image may hold millions of tiny chunks: list the first ones, count them all.
  const list = (c: LegacySummary["chunks"][number]) => {
    s.chunks_total++;
    if (s.chunks.length < MAX_LISTED) s.chunks.push(c);
  };
  for await (const it of walkLegacy(r, shape)) {
    switch (it.kind) {
      case "xl":
        s.xl = { mandatory_flags: it.mandatoryFlags, optional_data: it.payload };
        break;
      case "p2m_size":
        s.p2m_size = it.value;
        break;
      case "ext_block":
        if (it.id === "vcpu") s.guest_width = it.payload === 0x1430 ? 64 : 32;
        if (s.tail === null && shape.guest === "pv") s.tail = { type: "pv", unmapped_pfns: 0, vcpus: [], vcpu_context: 0, extended: false, xsave: 0 };
        if (s.tail?.type === "pv") {
          if (it.id === "vcpu") s.tail.vcpu_context = it.payload;
          if (it.id === "extv") s.tail.extended = true;
        }
        break;
      case "batch":
        s.batches++;
        s.pages += it.dataPages;
        s.filler_entries += it.fillers;
        list({ offset: it.offset, id: it.count, name: "page_batch", size: it.dataPages });
        break;
      case "tsc_info":
        list({ offset: it.offset, id: -7, name: "tsc_info", value: `mode ${it.mode}, ${it.khz} kHz, ${it.nsec} ns, incarnation ${it.incarnation}` });
        break;
      case "hvm_param":
        list({ offset: it.offset, id: it.id, name: it.name, value: `0x${it.value.toString(16)}` });
        break;
      case "vcpu_info":
        online = it.online;
        list({ offset: it.offset, id: -2, name: "vcpu_info", value: `max ${it.maxVcpuId}, online [${it.online.join(",")}]` });
        break;
      case "marker":
        list({ offset: it.offset, id: it.id, name: it.name });
        break;
      case "compressed_data":
        list({ offset: it.offset, id: -12, name: "compressed_data", size: it.payload });
        break;
      case "toolstack": {
        list({ offset: it.offset, id: -18, name: "toolstack", size: it.payload });
        let physmap: ReturnType<typeof describePhysmap>[] | null = null;
        if (it.payload > 0 && it.payload <= MAX_TOOLSTACK_BLOB) {
          const at = r.offset;
          const blob = (await r.read(it.payload, "toolstack blob")).bytesView(it.payload);
          try {
            physmap = parsePhysmap(blob, shape.width, at).map(describePhysmap);
          } catch (e) {
            const n = `toolstack blob is not libxl's physmap: ${(e as Error).message}`;
            if (s.notes.length < 100 && !s.notes.includes(n)) s.notes.push(n);
          }
        }
        s.toolstack = { offset: it.offset, size: it.payload, physmap };
        break;
      }
      case "end":
        list({ offset: it.offset, id: 0, name: "end" });
        break;
      case "hvm_magic":
        s.tail = { type: "hvm", ioreq_pfn: `0x${it.ioreq.toString(16)}`, bufioreq_pfn: `0x${it.bufioreq.toString(16)}`, store_pfn: `0x${it.store.toString(16)}`, hvm_context: 0 };
        break;
      case "hvm_context":
        if (s.tail?.type === "hvm") s.tail.hvm_context = it.payload;
        break;
      case "unmapped":
        if (s.tail?.type === "pv") s.tail.unmapped_pfns = it.count;
        break;
      case "vcpu_xsave":
        if (s.tail?.type === "pv") s.tail.xsave = it.payload;
        break;
      case "qemu":
        s.qemu = { offset: it.offset, signature: it.signature, size: it.payload === -1 ? (r.size ?? r.offset) - r.offset : it.payload };
        break;
      default:
        break;
    }
  }
  if (s.tail?.type === "pv") {
    s.tail.vcpus = online ?? [0];
    if (!online) s.notes.push("PV image without a vcpu_info chunk: vcpu 0 alone is online, as legacy restore assumed");
  }
  s.bytes = r.offset - startOffset;
  return s;
}

function render(s: LegacySummary): string {
  const lines = [
    `${s.format}: ${s.guest.toUpperCase()} guest saved by a ${s.width}-bit toolstack${s.xl ? ` inside an xl file (${s.xl.optional_data} bytes of optional data)` : ""}`,
    `  p2m_size ${s.p2m_size} (0x${s.p2m_size.toString(16)})${s.guest_width ? `, ${s.guest_width}-bit guest` : ""}`,
    `  ${s.batches} page batches, ${s.pages} pages, ${s.filler_entries} filler entries`,
  ];
  if (s.tail?.type === "pv") {
    lines.push(`  extended info: ${s.tail.vcpu_context}-byte vcpu contexts${s.tail.extended ? ", extended contexts" : ""}${s.tail.xsave ? `, ${s.tail.xsave + 16}-byte xsave items` : ""}; p2m frame list`);
  }
  for (const c of s.chunks) {
    if (c.name === "page_batch") continue;
    lines.push(`  @${c.offset} chunk ${c.id} ${c.name}${c.size !== undefined ? ` (${c.size} bytes)` : ""}${c.value ? `: ${c.value}` : ""}`);
    if (c.name === "toolstack" && s.toolstack?.offset === c.offset) {
      for (const p of s.toolstack.physmap ?? []) lines.push(`    physmap ${p.phys_offset} start ${p.start_addr} size ${p.size} "${p.name}"`);
    }
  }
  if (s.tail?.type === "hvm") lines.push(`  tail: ioreq ${s.tail.ioreq_pfn}, bufioreq ${s.tail.bufioreq_pfn}, store ${s.tail.store_pfn}; HVM context ${s.tail.hvm_context} bytes`);
  if (s.tail?.type === "pv") lines.push(`  tail: ${s.tail.unmapped_pfns} unmapped pfns; vcpus [${s.tail.vcpus.join(",")}] (${s.tail.vcpu_context}-byte contexts${s.tail.extended ? " + extended" : ""}${s.tail.xsave ? ` + ${s.tail.xsave}-byte xsave` : ""}); shared info`);
  if (s.qemu) lines.push(`  QEMU record ${s.qemu.signature} at ${s.qemu.offset}: ${s.qemu.size} bytes`);
  if (s.chunks_total > s.chunks.length) lines.push(`  … ${s.chunks_total - s.chunks.length} more chunks`);
  lines.push(`  ${s.bytes} bytes`);
  for (const n of s.notes) lines.push(`  note: ${n}`);
  return lines.join("\n");
}

async function* decodeLegacy(r: StreamReader, version: string, opts: CodecOptions): AsyncGenerator<Uint8Array> {
  const w = new JsonWriter();
  const shape = await openLegacy(r, version, opts);
  w.raw(`{\n  "format": ${JSON.stringify(fmt(shape.width))},\n  "guest": ${JSON.stringify(shape.guest)},\n  "items": [`);
  let first = true;
  for await (const it of walkLegacy(r, shape)) {
    w.raw(first ? "\n    " : ",\n    ");
    first = false;
    if (!hasData(it.kind)) {
      w.value(itemJson(it));
    } else {
      // The item's members, then its payload from the input's buffer straight into the writer as base64.
      const head = itemJson(it);
      w.raw("{");
      let k = 0;
      for (const key of Object.keys(head)) {
        if (head[key] === undefined) continue;
        w.raw(k++ ? "," : "").str(key).raw(":").value(head[key]);
      }
      w.raw(k ? ',"data":"' : '"data":"');
      // The QEMU record that runs to the end: base64 of whatever is left.
      if (it.payload === -1) yield* w.base64Rest(r);
      else yield* w.base64Of(r, it.payload, `${it.kind} data`);
      w.raw('"}');
    }
    if (w.full) yield* w.drain();
  }
  w.raw("\n  ]\n}\n");
  yield* w.end();
}

function docWidth(d: Record<string, unknown>): Width {
  if (d.format !== "legacy@32" && d.format !== "legacy@64") throw new MalformedError("format: expected legacy@32 or legacy@64", 0, { found: JSON.stringify(d.format) });
  return d.format === "legacy@32" ? 32 : 64;
}

/** Write the bytes a decoded document describes. */
export async function encodeLegacy(doc: unknown, out: Sink): Promise<void> {
  if (doc === null || typeof doc !== "object") throw new MalformedError("expected a legacy document object", 0);
  const d = doc as Record<string, unknown>;
  const width = docWidth(d);
  if (!Array.isArray(d.items)) throw new MalformedError("items: expected an array", 0);
  const w = new ByteWriter(1 << 16);
  for (let i = 0; i < d.items.length; i++) {
    const { item, data } = itemFromJson(d.items[i], `items[${i}]`);
    writeItemHead(w, item, width);
    w.bytes(data);
    if (w.length >= 1 << 20) {
      await out.write(w.finish());
      w.reset();
    }
  }
  if (w.length) await out.write(w.finish());
}

const DATA: ReadonlySet<string> = new Set(["data"]);

/**
 * `encode` from the document's text as it streams: each item is written as
 * soon as it is read, its payload decoded straight from the text, so a
 * document of any size encodes in bounded memory.
 */
export async function encodeLegacyStream(input: StreamReader, out: Sink): Promise<void> {
  const bs = batched(out);
  const w = new ByteWriter(1 << 16);
  let width: Width = 64;
  await readStreamedDocument(input, {
    path: ["items"],
    bytesKeys: DATA,
    begin(d) {
      width = docWidth(d);
    },
    async item(x, i) {
      const { item, data } = itemFromJson(x, `items[${i}]`);
      writeItemHead(w.reset(), item, width);
      await bs.write(w.finish());
      if (data.byteLength) await bs.write(data);
    },
    async end(d, begun) {
      if (!begun) {
        docWidth(d);
        throw new MalformedError("items: expected an array", 0);
      }
      await bs.flush();
    },
  });
}

/** Re-encode item by item: fixed parts rebuilt from the parsed fields, payloads piped through. */
export async function recodeLegacy(r: StreamReader, version: string, out: Sink, opts: CodecOptions): Promise<void> {
  const shape: LegacyShape = await openLegacy(r, version, opts);
  const w = new ByteWriter(1 << 16);
  const flush = async () => {
    if (w.length) await out.write(w.finish());
    w.reset();
  };
  for await (const it of walkLegacy(r, shape)) {
    writeItemHead(w, it as LegacyItem, shape.width);
    if (it.payload === -1) {
      await flush();
      while (await r.fill(1)) await out.write(r.take(r.buffered));
    } else if (it.payload > 0) {
      await flush();
      await r.pipe(it.payload, out, `${it.kind} data`);
    } else if (w.length >= 1 << 18) await flush();
  }
  await flush();
}

const TARGETS: FormatId[] = [
  { family: "libxc", version: "3" },
  { family: "libxc", version: "2" },
  { family: "libxl", version: "2" },
  { family: "xl", version: "1" },
];

/**
 * The `legacy` family: pre-4.6 Xen images of either toolstack width, bare or
 * inside an xl file whose STREAMv2 flag is clear.
 */
export const legacyCodec: FamilyCodec = {
  family: "legacy",
  versions: ["32", "64"],
  detect: detectLegacy,
  async inspect(input, version, opts): Promise<Inspection> {
    const s = await summarize(input, version, opts);
    return { format: s.format, json: s, text: render(s) };
  },
  async verify(input, version, opts): Promise<VerifyReport> {
    const s = await summarize(input, version, opts);
    const notes = [...s.notes];
    if (s.toolstack && s.toolstack.size > 0 && !s.toolstack.physmap) notes.push("toolstack blob not parsed");
    return { format: s.format, items: s.chunks_total + 1, bytes: s.bytes, notes };
  },
  decode: (input, version, opts) => jsonTextOf(decodeLegacy(input, version, opts)),
  decodeBytes: (input, version, opts) => decodeLegacy(input, version, opts),
  encode: (doc, out) => encodeLegacy(doc, out),
  encodeStream: (json, out) => encodeLegacyStream(json, out),
  recode: recodeLegacy,
  async convert(input, version, to, out, opts) {
    const rep = await convertLegacy(input, version, to, out, opts);
    const onNote = opts.onNote;
    if (typeof onNote === "function") for (const n of rep.notes) (onNote as (m: string) => void)(n);
  },
  convertTargets: () => TARGETS,
};

export const summaryJson = (s: LegacySummary): string => jsonText(s, 2);

