/**
 * The lossless JSON document of a savevm stream (`decode`/`encode`).
 *
 * {
 *   "format": "qemu@3",
 *   "stream": [
 *     {"configuration": {"name": "pc-i440fx-7.2", "subsections": [{"name", "version", "data"}]}},
 *     {"command": "PING", "cmd": 2, "data": "AAAAAQ=="},
 *     {"section": "start", "id": 2, "idstr": "ram", "instance": 0, "version": 4, "ram": [
 *        {"flags": 4, "addr": "34086912", "blocks": [{"name": "pc.ram", "length": "33554432"}]},
 *        {"flags": 8, "addr": "0", "block": "pc.ram", "data": "<base64 page>"}, …], "footer": true},
 *     {"section": "full", "id": 0, "idstr": "timer", "instance": 0, "version": 2, "state": {…}, "footer": true},
 *     {"eof": true}
 *   ],
 *   "pageSize": 4096,
 *   "vmdesc": "<the trailer's JSON text, verbatim>"
 * }
 *
 * Device `state` follows the vmdesc: ints up to 32 bits are numbers, 64-bit
 * ones decimal strings, other fields base64; structs nest, arrays are arrays,
 * subsections sit under their names. Sections nothing describes keep `raw`.
 */
import {
  MalformedError,
  RefusedError,
  WireError,
  fromBase64,
  jsonReplacer,
  toBase64,
  type CodecOptions,
  type Sink,
  type StreamReader,
} from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE, MIG_CMD } from "./constants.js";
import { parseStream, ParseState, SECTION_KINDS, type ConfigSub, type SectionKind } from "./parse.js";
import type { RamBlock, RamRecord } from "./ram.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import { compileVmdesc, deviceKey, type Vmdesc } from "./vmdesc.js";
import { QemuWriter } from "./writer.js";

const PIECE = 1 << 16;

function ramJson(r: RamRecord): string {
  let s = `{"flags": ${r.flags}, "addr": "${r.addr}"`;
  if (r.block !== null) s += `, "block": ${JSON.stringify(r.block)}`;
  if (r.blocks) {
    s += `, "blocks": [`;
    for (let i = 0; i < r.blocks.length; i++) {
      const b = r.blocks[i]!;
      s += `${i ? ", " : ""}{"name": ${JSON.stringify(b.name)}, "length": "${b.length}"`;
      if (b.pageSize !== undefined) s += `, "pageSize": "${b.pageSize}"`;
      if (b.gpa !== undefined) s += `, "gpa": "${b.gpa}"`;
      s += "}";
    }
    s += "]";
  }
  if (r.flags & 0x02) s += `, "fill": ${r.fill}`;
  if (r.flags & 0x40) s += `, "xbzrle": ${r.xflag}`;
  if (r.data) s += `, "data": "${toBase64(r.data)}"`;
  return s + "}";
}

export async function* decodeDoc(input: StreamReader, version: string, opts: CodecOptions): AsyncIterable<string> {
  const v = parseVersion(version);
  const b = await loadBorrowed(opts);
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  let out = `{\n  "format": "qemu@${v}",\n  "stream": [`;
  let items = 0;
  let recs = 0;
  let inRam = false;
  let vmdescText: string | null = null;
  const item = (s: string): void => {
    out += `${items++ ? "," : ""}\n    ${s}`;
  };
  for await (const ev of parseStream(input, { version: v, pages: true, pageSize: ps, borrowed: b.vmdesc }, st)) {
    switch (ev.t) {
      case "header":
        break;
      case "config":
        item(
          JSON.stringify({
            configuration: { name: ev.name, subsections: ev.subs.map((s) => ({ name: s.name, version: s.version, data: toBase64(s.data) })) },
          }),
        );
        break;
      case "command": {
        const o: Record<string, unknown> = { command: MIG_CMD[ev.cmd]?.name ?? String(ev.cmd), cmd: ev.cmd, data: toBase64(ev.data) };
        if (ev.pkg) o["package"] = toBase64(ev.pkg);
        item(JSON.stringify(o));
        break;
      }
      case "section": {
        let s = `{"section": "${ev.kind}", "id": ${ev.id}`;
        if (ev.kind === "start" || ev.kind === "full")
          s += `, "idstr": ${JSON.stringify(ev.idstr)}, "instance": ${ev.instance}, "version": ${ev.version}`;
        s += ev.body === "ram" ? `, "ram": [` : ev.body === "state" ? `, "state": ` : `, "raw": `;
        item(s);
        recs = 0;
        inRam = ev.body === "ram";
        break;
      }
      case "ram":
        out += `${recs++ ? "," : ""}\n      ${ramJson(ev.rec)}`;
        break;
      case "state":
        out += JSON.stringify(ev.value, jsonReplacer);
        break;
      case "raw":
        out += `"${toBase64(ev.data)}"`;
        break;
      case "end":
        if (inRam) out += recs > 0 ? "\n    ]" : "]";
        inRam = false;
        recs = 0;
        out += `, "footer": ${ev.footer}}`;
        break;
      case "eof":
        item(`{"eof": true}`);
        break;
      case "vmdesc":
        vmdescText = ev.vmdesc ? ev.vmdesc.text : null;
        break;
    }
    if (out.length >= PIECE) {
      yield out;
      out = "";
    }
  }
  out += `\n  ],\n  "pageSize": ${st.ram.pageSize}`;
  if (vmdescText !== null) out += `,\n  "vmdesc": ${JSON.stringify(vmdescText)}`;
  if (b.vmdesc && !vmdescText) out += `,\n  "schemaVmdesc": ${JSON.stringify(b.vmdesc.text)}`;
  out += "\n}\n";
  yield out;
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
function b64(v: unknown, path: string): Uint8Array {
  if (typeof v !== "string") throw new MalformedError("base64 string expected", 0, { path });
  return fromBase64(v, path);
}
function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new MalformedError("string expected", 0, { path });
  return v;
}

function ramFromJson(j: unknown, path: string): RamRecord {
  const r = o(j, path);
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

export async function encodeDoc(doc: unknown, out: Sink, _opts: CodecOptions): Promise<void> {
  try {
    const d = o(doc, "");
    const fmt = d["format"];
    if (fmt !== "qemu@3" && fmt !== "qemu@4") throw new RefusedError("not a qemu document", 0, { expected: "qemu@3 or qemu@4", found: JSON.stringify(fmt) });
    const version = Number(fmt.slice(5));
    const ps = d["pageSize"] === undefined ? DEFAULT_PAGE_SIZE : num(d["pageSize"], "pageSize");
    const own: Vmdesc | null = typeof d["vmdesc"] === "string" ? compileVmdesc(JSON.parse(d["vmdesc"]), d["vmdesc"], 0) : null;
    const borrowed: Vmdesc | null = typeof d["schemaVmdesc"] === "string" ? compileVmdesc(JSON.parse(d["schemaVmdesc"]), d["schemaVmdesc"], 0) : null;
    const stream = d["stream"];
    if (!Array.isArray(stream)) throw new MalformedError("stream array expected", 0, { path: "stream" });
    const w = new QemuWriter(out, version, ps);
    w.header();
    for (let i = 0; i < stream.length; i++) {
      const p = `stream[${i}]`;
      const it = o(stream[i], p);
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
        const kind = it["section"] as SectionKind;
        if (!KINDS.has(kind)) throw new MalformedError("section must be start, part, end or full", 0, { path: `${p}.section` });
        const id = num(it["id"], `${p}.id`);
        const full = kind === "start" || kind === "full";
        const idstr = full ? str(it["idstr"], `${p}.idstr`) : "";
        const instance = full ? num(it["instance"], `${p}.instance`) : 0;
        w.section(kind, id, idstr, instance, full ? num(it["version"], `${p}.version`) : 0);
        if (it["ram"] !== undefined) {
          const ram = it["ram"];
          if (!Array.isArray(ram)) throw new MalformedError("array expected", 0, { path: `${p}.ram` });
          for (let k = 0; k < ram.length; k++) {
            try {
              await w.ramRecord(ramFromJson(ram[k], `${p}.ram[${k}]`));
            } catch (e) {
              if (e instanceof WireError && !e.path) e.within(`${p}.ram[${k}]`);
              throw e;
            }
          }
        } else if (it["state"] !== undefined) {
          const dev = own?.devices.get(deviceKey(idstr, instance)) ?? borrowed?.devices.get(deviceKey(idstr, instance));
          if (!dev) throw new MalformedError(`no vmdesc entry for ${idstr} instance ${instance}`, 0, { path: `${p}.state` });
          w.state(dev.desc, it["state"], `${p}.state`);
        } else {
          w.raw(b64(it["raw"], `${p}.raw`));
        }
        if (it["footer"] === true) w.footer(id);
      } else if (it["eof"] === true) {
        w.eof();
      } else {
        throw new MalformedError("unknown stream item", 0, { path: p });
      }
      await w.maybeFlush();
    }
    if (own) w.vmdesc(te.encode(own.text));
    await w.flush();
    await out.close();
  } catch (e) {
    await out.abort?.();
    if (e instanceof SyntaxError) throw new MalformedError(`vmdesc text is not JSON: ${e.message}`, 0, { path: "vmdesc" });
    throw e;
  }
}
