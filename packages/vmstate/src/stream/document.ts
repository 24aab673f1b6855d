/**
 * The lossless JSON document of a savevm stream (`decode`/`encode`).
 *
 * {
 *   "format": "qemu@3",
 *   "pageSize": 4096,
 *   "stream": [
 *     {"configuration": {"name": "pc-i440fx-7.2", "subsections": [{"name", "version", "data"}]}},
 *     {"command": "PING", "cmd": 2, "data": "AAAAAQ=="},
 *     {"section": "start", "id": 2, "idstr": "ram", "instance": 0, "version": 4, "ram": [
 *        {"flags": 4, "addr": "34086912", "blocks": [{"name": "pc.ram", "length": "33554432"}]},
 *        {"flags": 8, "addr": "0", "block": "pc.ram", "data": "<base64 page>"}, …], "footer": true},
 *     {"section": "full", "id": 0, "idstr": "timer", "instance": 0, "version": 2, "state": {…}, "footer": true},
 *     {"eof": true}
 *   ],
 *   "vmdesc": "<the trailer's JSON text, verbatim>"
 * }
 *
 * Device `state` follows the vmdesc: ints up to 32 bits are numbers, 64-bit
 * ones decimal strings, other fields base64; structs nest, arrays are arrays,
 * subsections sit under their names. Sections nothing describes keep `raw`.
 */
import {
  JsonReader,
  MalformedError,
  RefusedError,
  WireError,
  JsonWriter,
  fromBase64,
  jsonTextOf,
  safeObject,
  type CodecOptions,
  type Sink,
  type StreamReader,
} from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE, MAX_TAIL, MIG_CMD } from "./constants.js";
import { parseStream, ParseState, SECTION_KINDS, type ConfigSub, type SectionKind } from "./parse.js";
import type { RamBlock, RamRecord } from "./ram.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import { compileVmdesc, deviceKey, type Vmdesc } from "./vmdesc.js";
import { QemuWriter } from "./writer.js";
import { mappedFromJson, mappedJson } from "./mapped-ram-json.js";

/** JSON string literals of block names: a page's record names its block every time. */
const names = new Map<string, string>();
const nameJson = (n: string): string => {
  let j = names.get(n);
  if (j === undefined) {
    if (names.size > 1024) names.clear();
    names.set(n, (j = JSON.stringify(n)));
  }
  return j;
};

/** One RAM record into the document; a page's contents straight into the writer as base64. */
function ramJson(w: JsonWriter, r: RamRecord): void {
  if (r.mapped) return mappedJson(w, r);
  w.raw(`{"flags": ${r.flags}, "addr": "${r.addr}"`);
  if (r.block !== null) w.raw(`, "block": ${nameJson(r.block)}`);
  if (r.blocks) {
    w.raw(`, "blocks": [`);
    for (let i = 0; i < r.blocks.length; i++) {
      const b = r.blocks[i]!;
      w.raw(`${i ? ", " : ""}{"name": ${JSON.stringify(b.name)}, "length": "${b.length}"`);
      if (b.pageSize !== undefined) w.raw(`, "pageSize": "${b.pageSize}"`);
      if (b.gpa !== undefined) w.raw(`, "gpa": "${b.gpa}"`);
      w.raw("}");
    }
    w.raw("]");
  }
  if (r.flags & 0x02) w.raw(`, "fill": ${r.fill}`);
  if (r.flags & 0x40) w.raw(`, "xbzrle": ${r.xflag}`);
  if (r.data) w.raw(`, "data": "`).base64(r.data).raw('"');
  w.raw("}");
}

/** The lossless document of a savevm stream, as UTF-8 bytes (`vmstream decode`). */
export async function* decodeDocBytes(input: StreamReader, version: string, opts: CodecOptions): AsyncGenerator<Uint8Array> {
  const v = parseVersion(version);
  const b = await loadBorrowed(opts);
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  const w = new JsonWriter();
  // The prefix waits for the first event after the header: by then a configuration's
  // target-page-bits has set the page size, which encoders need before any RAM record.
  let opened = false;
  let items = 0;
  let recs = 0;
  let inRam = false;
  let vmdescText: string | null = null;
  const item = (): JsonWriter => w.raw(items++ ? ",\n    " : "\n    ");
  for await (const ev of parseStream(input, { version: v, pages: true, pageSize: ps, borrowed: b.vmdesc }, st)) {
    if (!opened && ev.t !== "header") {
      w.raw(`{\n  "format": "qemu@${v}",\n  "pageSize": ${st.ram.pageSize},\n  "stream": [`);
      opened = true;
    }
    switch (ev.t) {
      case "header":
        break;
      case "config":
        item().value({ configuration: { name: ev.name, subsections: ev.subs.map((s) => ({ name: s.name, version: s.version, data: s.data })) } });
        break;
      case "command": {
        const o: Record<string, unknown> = { command: MIG_CMD[ev.cmd]?.name ?? String(ev.cmd), cmd: ev.cmd, data: ev.data };
        if (ev.pkg) o["package"] = ev.pkg;
        item().value(o);
        break;
      }
      case "section": {
        let s = `{"section": "${ev.kind}", "id": ${ev.id}`;
        if (ev.kind === "start" || ev.kind === "full")
          s += `, "idstr": ${JSON.stringify(ev.idstr)}, "instance": ${ev.instance}, "version": ${ev.version}`;
        s += ev.body === "ram" ? `, "ram": [` : ev.body === "state" ? `, "state": ` : `, "raw": `;
        item().raw(s);
        recs = 0;
        inRam = ev.body === "ram";
        break;
      }
      case "ram":
        w.raw(recs++ ? ",\n      " : "\n      ");
        ramJson(w, ev.rec);
        break;
      case "state":
        w.value(ev.value);
        break;
      case "raw":
        w.raw('"').base64(ev.data).raw('"');
        break;
      case "end":
        if (inRam) w.raw(recs > 0 ? "\n    ]" : "]");
        inRam = false;
        recs = 0;
        w.raw(`, "footer": ${ev.footer}}`);
        break;
      case "eof":
        item().raw(`{"eof": true}`);
        break;
      case "vmdesc":
        vmdescText = ev.vmdesc ? ev.vmdesc.text : null;
        break;
    }
    if (w.full) yield* w.drain();
  }
  w.raw(`\n  ]`);
  if (vmdescText !== null) w.raw(`,\n  "vmdesc": `).str(vmdescText);
  if (b.vmdesc && !vmdescText) w.raw(`,\n  "schemaVmdesc": `).str(b.vmdesc.text);
  w.raw("\n}\n");
  yield* w.end();
}

/** …as text. */
export function decodeDoc(input: StreamReader, version: string, opts: CodecOptions): AsyncIterable<string> {
  return jsonTextOf(decodeDocBytes(input, version, opts));
}

const te = new TextEncoder();

function o(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new MalformedError("object expected", 0, { path });
  return v as Record<string, unknown>;
}
function num(v: unknown, path: string, max = 0xffffffff): number {
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || n > max)
    throw new MalformedError(`integer in [0, ${max}] expected`, 0, { path, found: JSON.stringify(v) });
  return n;
}
/** Members of a RAM record the streaming reader decodes from base64 itself. */
const RAM_BYTES: ReadonlySet<string> = new Set(["data", "bitmap"]);

/** Base64 text, or the bytes the streaming reader already decoded from it. */
function b64(v: unknown, path: string): Uint8Array {
  if (typeof v !== "string" && !(v instanceof Uint8Array)) throw new MalformedError("base64 string expected", 0, { path });
  return fromBase64(v, path);
}
function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new MalformedError("string expected", 0, { path });
  return v;
}

function ramFromJson(j: unknown, path: string): RamRecord {
  const r = o(j, path);
  const m = mappedFromJson(r, path);
  if (m) return m;
  const rec: RamRecord = {
    offset: 0,
    flags: num(r["flags"], `${path}.flags`, 0xffff),
    addr: num(r["addr"] ?? 0, `${path}.addr`, Number.MAX_SAFE_INTEGER),
    block: r["block"] === undefined ? null : str(r["block"], `${path}.block`),
    fill: r["fill"] === undefined ? 0 : num(r["fill"], `${path}.fill`, 255),
    blocks: null,
    data: r["data"] === undefined ? null : b64(r["data"], `${path}.data`),
    dataLength: 0,
    xflag: r["xbzrle"] === undefined ? 1 : num(r["xbzrle"], `${path}.xbzrle`, 255),
  };
  if (r["blocks"] !== undefined) {
    const bl = r["blocks"];
    if (!Array.isArray(bl)) throw new MalformedError("array expected", 0, { path: `${path}.blocks` });
    rec.blocks = bl.map((x, i): RamBlock => {
      const bp = `${path}.blocks[${i}]`;
      const b = o(x, bp);
      const out: RamBlock = { name: str(b["name"], `${bp}.name`), length: num(b["length"], `${bp}.length`, Number.MAX_SAFE_INTEGER) };
      if (b["pageSize"] !== undefined) out.pageSize = num(b["pageSize"], `${bp}.pageSize`, Number.MAX_SAFE_INTEGER);
      if (b["gpa"] !== undefined) out.gpa = num(b["gpa"], `${bp}.gpa`, Number.MAX_SAFE_INTEGER);
      return out;
    });
  }
  return rec;
}

const KINDS = new Set(Object.values(SECTION_KINDS));

interface Schemas {
  own: Vmdesc | null;
  borrowed: Vmdesc | null;
}

function compileText(v: unknown, path: string): Vmdesc | null {
  if (v === undefined) return null;
  if (typeof v !== "string") throw new MalformedError("JSON text expected", 0, { path });
  try {
    return compileVmdesc(JSON.parse(v), v, 0);
  } catch (e) {
    if (e instanceof SyntaxError) throw new MalformedError(`vmdesc text is not JSON: ${e.message}`, 0, { path });
    throw e;
  }
}

function formatVersion(fmt: unknown): number {
  if (fmt !== "qemu@3" && fmt !== "qemu@4") throw new RefusedError("not a qemu document", 0, { expected: "qemu@3 or qemu@4", found: JSON.stringify(fmt) });
  return Number(fmt.slice(5));
}

/** The section header of an item (its `ram` records may follow separately). */
function sectionHeader(w: QemuWriter, it: Record<string, unknown>, p: string): { kind: SectionKind; id: number; idstr: string; instance: number } {
  const kind = it["section"] as SectionKind;
  if (!KINDS.has(kind)) throw new MalformedError("section must be start, part, end or full", 0, { path: `${p}.section` });
  const id = num(it["id"], `${p}.id`);
  const full = kind === "start" || kind === "full";
  const idstr = full ? str(it["idstr"], `${p}.idstr`) : "";
  const instance = full ? num(it["instance"], `${p}.instance`) : 0;
  w.section(kind, id, idstr, instance, full ? num(it["version"], `${p}.version`) : 0);
  return { kind, id, idstr, instance };
}

async function ramRecords(w: QemuWriter, ram: unknown, p: string): Promise<void> {
  if (!Array.isArray(ram)) throw new MalformedError("array expected", 0, { path: `${p}.ram` });
  for (let k = 0; k < ram.length; k++) await ramOne(w, ram[k], `${p}.ram[${k}]`);
}

async function ramOne(w: QemuWriter, rec: unknown, p: string): Promise<void> {
  try {
    await w.ramRecord(ramFromJson(rec, p));
  } catch (e) {
    if (e instanceof WireError && !e.path) e.within(p);
    throw e;
  }
}

/** Write one `stream[]` item. */
async function encodeItem(w: QemuWriter, item: unknown, p: string, sc: Schemas): Promise<void> {
  const it = o(item, p);
  if ("configuration" in it) {
    const c = o(it["configuration"], `${p}.configuration`);
    const subsIn = c["subsections"] ?? [];
    if (!Array.isArray(subsIn)) throw new MalformedError("array expected", 0, { path: `${p}.configuration.subsections` });
    const subs: ConfigSub[] = subsIn.map((s, k) => {
      const sp = `${p}.configuration.subsections[${k}]`;
      const so = o(s, sp);
      return { name: str(so["name"], `${sp}.name`), version: num(so["version"], `${sp}.version`), data: b64(so["data"], `${sp}.data`) };
    });
    w.config(str(c["name"], `${p}.configuration.name`), subs);
  } else if ("cmd" in it) {
    const pkg = it["package"] === undefined ? null : b64(it["package"], `${p}.package`);
    w.command(num(it["cmd"], `${p}.cmd`, 0xffff), b64(it["data"], `${p}.data`), pkg);
  } else if ("section" in it) {
    const h = sectionHeader(w, it, p);
    if (it["ram"] !== undefined) {
      await ramRecords(w, it["ram"], p);
    } else if (it["state"] !== undefined) {
      const key = deviceKey(h.idstr, h.instance);
      const dev = sc.own?.devices.get(key) ?? sc.borrowed?.devices.get(key);
      if (!dev) throw new MalformedError(`no vmdesc entry for ${h.idstr} instance ${h.instance}`, 0, { path: `${p}.state` });
      w.state(dev.plan, it["state"], `${p}.state`);
    } else {
      w.raw(b64(it["raw"], `${p}.raw`));
    }
    if (it["footer"] === true) w.footer(h.id);
  } else if (it["eof"] === true) {
    w.eof();
  } else {
    throw new MalformedError("unknown stream item", 0, { path: p });
  }
  await w.maybeFlush();
}

export async function encodeDoc(doc: unknown, out: Sink, _opts: CodecOptions): Promise<void> {
  try {
    const d = o(doc, "");
    const version = formatVersion(d["format"]);
    const ps = d["pageSize"] === undefined ? DEFAULT_PAGE_SIZE : num(d["pageSize"], "pageSize");
    const sc: Schemas = { own: compileText(d["vmdesc"], "vmdesc"), borrowed: compileText(d["schemaVmdesc"], "schemaVmdesc") };
    const stream = d["stream"];
    if (!Array.isArray(stream)) throw new MalformedError("stream array expected", 0, { path: "stream" });
    const w = new QemuWriter(out, version, ps);
    w.header();
    for (let i = 0; i < stream.length; i++) await encodeItem(w, stream[i], `stream[${i}]`, sc);
    if (sc.own) w.vmdesc(te.encode(sc.own.text));
    await w.flush();
    await out.close();
  } catch (e) {
    await out.abort?.();
    throw e;
  }
}

/**
 * `encode` from the document's text, streaming: RAM records are written as
 * they are parsed, so a document of any size (a 512 MiB guest decodes to
 * ~700 MB of JSON, beyond a JavaScript string) encodes in bounded memory.
 * Items after the first device section wait for the vmdesc, which the
 * document carries at its end; they are small.
 */
export async function encodeDocText(input: StreamReader, out: Sink, _opts: CodecOptions): Promise<void> {
  const j = new JsonReader(input, { maxValue: MAX_TAIL });
  try {
    let w: QemuWriter | null = null;
    let ps = DEFAULT_PAGE_SIZE;
    let version = 0;
    const top: Record<string, unknown> = safeObject();
    const pending: { item: unknown; path: string }[] = [];
    let holding = false;
    await j.expect(0x7b, "{");
    for (let first = true; ; first = false) {
      if ((await j.peek()) === 0x7d) {
        j.take();
        break;
      }
      if (!first) await j.expect(0x2c, ",");
      const key = await j.value();
      if (typeof key !== "string") throw new MalformedError("object key expected", j.offset);
      await j.expect(0x3a, ":");
      if (key !== "stream") {
        top[key] = await j.value();
        if (key === "format") version = formatVersion(top[key]);
        if (key === "pageSize") ps = num(top[key], "pageSize");
        continue;
      }
      if (!version) throw new MalformedError('"format" must come before "stream"', j.offset, { path: "format" });
      w = new QemuWriter(out, version, ps);
      w.header();
      await j.expect(0x5b, "[");
      for (let i = 0; ; i++) {
        if ((await j.peek()) === 0x5d) {
          j.take();
          break;
        }
        if (i > 0) await j.expect(0x2c, ",");
        const p = `stream[${i}]`;
        if (holding || (await j.peek()) !== 0x7b) {
          pending.push({ item: await j.value(), path: p });
          continue;
        }
        // Read the item's keys; its `ram` array streams straight to the writer.
        j.take();
        const it: Record<string, unknown> = safeObject();
        let streamed = false;
        for (let k = 0; ; k++) {
          if ((await j.peek()) === 0x7d) {
            j.take();
            break;
          }
          if (k > 0) await j.expect(0x2c, ",");
          const ik = await j.value();
          if (typeof ik !== "string") throw new MalformedError("object key expected", j.offset);
          await j.expect(0x3a, ":");
          if (ik === "ram" && "section" in it && "id" in it && (it["section"] === "part" || it["section"] === "end" || "version" in it)) {
            sectionHeader(w, it, p);
            streamed = true;
            await j.expect(0x5b, "[");
            for (let r = 0; ; r++) {
              if ((await j.peek()) === 0x5d) {
                j.take();
                break;
              }
              if (r > 0) await j.expect(0x2c, ",");
              // Page contents are decoded from the text straight to bytes, never a string, into a
              // buffer the next record reuses (the writer is done with them when ramOne resolves).
              await ramOne(w, (await j.peek()) === 0x7b ? await j.object(RAM_BYTES, undefined, 0, true) : await j.value(), `${p}.ram[${r}]`);
            }
          } else {
            it[ik] = await j.value();
          }
        }
        if (streamed) {
          if (it["footer"] === true) w.footer(num(it["id"], `${p}.id`));
          await w.maybeFlush();
        } else if ("state" in it) {
          holding = true;
          pending.push({ item: it, path: p });
        } else {
          await encodeItem(w, it, p, { own: null, borrowed: null });
        }
      }
    }
    if (!(await j.atEnd())) throw new MalformedError("bytes after the document", j.offset);
    if (!w) throw new MalformedError("stream array expected", 0, { path: "stream" });
    const sc: Schemas = { own: compileText(top["vmdesc"], "vmdesc"), borrowed: compileText(top["schemaVmdesc"], "schemaVmdesc") };
    for (const x of pending) await encodeItem(w, x.item, x.path, sc);
    if (sc.own) w.vmdesc(te.encode(sc.own.text));
    await w.flush();
    await out.close();
  } catch (e) {
    await out.abort?.();
    throw e;
  }
}
