/**
 * `inspect`: a summary of a savevm stream read without its page payloads
 * (header, configuration, commands, sections with offsets and sizes, RAM
 * totals, vmdesc) and the first fault, if any.
 */
import { WireError, type CodecOptions, type Inspection, type StreamReader, type VerifyReport } from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE, MIG_CMD } from "./constants.js";
import { capabilities, parseStream, ParseState, type SectionKind } from "./parse.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import type { RamTotals } from "./ram.js";

export interface SectionSummary {
  offset: number;
  kind: SectionKind;
  id: number;
  idstr: string;
  instance: number;
  version: number;
  body: "ram" | "state" | "raw";
  size: number;
}

export interface QemuSummary {
  format: string;
  size: number;
  version: number;
  configuration: { name: string; subsections: { name: string; version: number; size: number; value?: unknown }[] } | null;
  footers: boolean | null;
  commands: { offset: number; cmd: number; name: string; length: number; packaged?: number }[];
  sections: SectionSummary[];
  ram: RamTotals & { pageSize: number; blocks: { name: string; length: number }[] };
  eof: number | null;
  vmdesc: { offset: number; length: number; devices: number; borrowed: boolean } | null;
  notes: string[];
  fault: { offset: number; code: string; path: string; message: string } | null;
}

const hexs = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export async function summarize(input: StreamReader, version: string, opts: CodecOptions): Promise<QemuSummary> {
  const v = parseVersion(version);
  const sum: QemuSummary = {
    format: `qemu@${v}`,
    size: 0,
    version: v,
    configuration: null,
    footers: null,
    commands: [],
    sections: [],
    ram: { pageSize: 0, blocks: [], records: 0, pages: 0, zeroPages: 0, compressedPages: 0, xbzrlePages: 0, pageBytes: 0 },
    eof: null,
    vmdesc: null,
    notes: [],
    fault: null,
  };
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  let cur: SectionSummary | null = null;
  try {
    const b = await loadBorrowed(opts);
    if (b.note) sum.notes.push(b.note);
    for await (const ev of parseStream(input, { version: v, pages: false, ramBlocksOnly: true, pageSize: ps, borrowed: b.vmdesc, lenient: true }, st)) {
      switch (ev.t) {
        case "config":
          sum.configuration = {
            name: ev.name,
            subsections: ev.subs.map((s) => {
              const value =
                s.name === "configuration/capabilities"
                  ? capabilities(s.data)
                  : s.name === "configuration/uuid"
                    ? hexs(s.data).replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-")
                    : s.name === "configuration/target-page-bits"
                      ? new DataView(s.data.buffer, s.data.byteOffset).getUint32(0)
                      : undefined;
              return { name: s.name, version: s.version, size: s.data.byteLength, ...(value === undefined ? {} : { value }) };
            }),
          };
          break;
        case "command":
          sum.commands.push({
            offset: ev.offset,
            cmd: ev.cmd,
            name: MIG_CMD[ev.cmd]?.name ?? String(ev.cmd),
            length: ev.data.byteLength,
            ...(ev.pkg ? { packaged: ev.pkg.byteLength } : {}),
          });
          break;
        case "section":
          cur = { offset: ev.offset, kind: ev.kind, id: ev.id, idstr: ev.idstr, instance: ev.instance, version: ev.version, body: ev.body, size: 0 };
          sum.sections.push(cur);
          break;
        case "ram":
          if (ev.rec.blocks) for (const bl of ev.rec.blocks) sum.ram.blocks.push({ name: bl.name, length: bl.length });
          break;
        case "end":
          if (cur) cur.size = input.offset - cur.offset;
          break;
        case "eof":
          sum.eof = ev.offset;
          break;
        case "vmdesc":
          sum.vmdesc = { offset: ev.offset, length: ev.bytes.byteLength, devices: ev.vmdesc?.devices.size ?? 0, borrowed: false };
          break;
        default:
          break;
      }
    }
    if (!sum.vmdesc && b.vmdesc) sum.vmdesc = { offset: -1, length: b.vmdesc.text.length, devices: b.vmdesc.devices.size, borrowed: true };
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    sum.fault = { offset: e.offset, code: e.code, path: e.path, message: e.message };
  }
  sum.size = input.offset;
  sum.footers = st.footers ?? null;
  Object.assign(sum.ram, st.ram.totals, { pageSize: st.ram.pageSize });
  for (const w of st.warnings) sum.notes.push(`warning at offset ${w.offset}: ${w.message} (the VM state loads; the file is damaged after it)`);
  if (st.guessed > 0) sum.notes.push(`${st.guessed} section bod${st.guessed === 1 ? "y" : "ies"} delimited by scanning (no vmdesc entry): kept as raw bytes`);
  if (!sum.vmdesc && !sum.fault && !st.vmdescDamaged && st.warnings.length === 0) sum.notes.push("no vmdesc trailer (machine types up to 2.2, postcopy)");
  return sum;
}

export function renderSummary(s: QemuSummary): string {
  const L: string[] = [];
  L.push(`${s.format}  ${s.size} bytes  file version ${s.version}${s.footers === null ? "" : s.footers ? ", section footers" : ", no section footers"}`);
  if (s.configuration) {
    L.push(`configuration: machine ${JSON.stringify(s.configuration.name)}`);
    for (const c of s.configuration.subsections) L.push(`  ${c.name} v${c.version} (${c.size} bytes)${c.value === undefined ? "" : ` = ${JSON.stringify(c.value)}`}`);
  } else {
    L.push("configuration: none");
  }
  for (const c of s.commands) L.push(`command @${c.offset}: ${c.name} (${c.length} bytes${c.packaged === undefined ? "" : `, package of ${c.packaged} bytes`})`);
  L.push(`sections: ${s.sections.length}`);
  L.push("  offset      size  kind   id  idstr (instance) version  body");
  for (const x of s.sections) {
    const name = x.kind === "part" || x.kind === "end" ? x.idstr : `${x.idstr} (${x.instance}) v${x.version}`;
    L.push(`  ${String(x.offset).padStart(9)} ${String(x.size).padStart(8)}  ${x.kind.padEnd(5)} ${String(x.id).padStart(3)}  ${name}  ${x.body}`);
  }
  const r = s.ram;
  L.push(
    `RAM: page size ${r.pageSize}, ${r.records} records: ${r.pages} pages, ${r.zeroPages} zero pages, ${r.compressedPages} compressed, ${r.xbzrlePages} XBZRLE; ${r.pageBytes} payload bytes`,
  );
  for (const b of r.blocks) L.push(`  block ${JSON.stringify(b.name)} ${b.length} bytes`);
  L.push(s.eof === null ? "EOF: not reached" : `EOF at ${s.eof}`);
  L.push(s.vmdesc ? (s.vmdesc.borrowed ? `vmdesc: borrowed, ${s.vmdesc.devices} devices` : `vmdesc at ${s.vmdesc.offset}: ${s.vmdesc.length} bytes, ${s.vmdesc.devices} devices`) : "vmdesc: none");
  for (const n of s.notes) L.push(`note: ${n}`);
  L.push(s.fault ? `FAULT at offset ${s.fault.offset}: ${s.fault.message}` : "valid");
  return L.join("\n") + "\n";
}

export async function inspectStream(input: StreamReader, version: string, opts: CodecOptions): Promise<Inspection> {
  const s = await summarize(input, version, opts);
  return { format: s.format, json: s, text: renderSummary(s) };
}

export async function verifyStream(input: StreamReader, version: string, opts: CodecOptions): Promise<VerifyReport> {
  const v = parseVersion(version);
  const b = await loadBorrowed(opts);
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  st.ram.bitmaps = false;
  let items = 0;
  // Without --strict, damage after the VM state is a warning, not a failure (see docs/cli.md "verify --strict").
  const lenient = opts["strict"] !== true;
  for await (const ev of parseStream(input, { version: v, pages: false, ramBlocksOnly: true, pageSize: ps, borrowed: b.vmdesc, lenient }, st)) {
    if (ev.t === "section" || ev.t === "command" || ev.t === "config") items++;
  }
  const notes: string[] = [];
  if (b.note) notes.push(b.note);
  if (st.guessed > 0)
    notes.push(
      `${st.vmdescDamaged ? "the vmdesc trailer is damaged, so " : ""}${st.guessed} section bodies were delimited by scanning, not by a schema: their contents were not checked`,
    );
  if (!st.vmdesc && !st.vmdescDamaged) notes.push("no vmdesc trailer");
  const warnings = st.warnings.map((e) => ({ offset: e.offset, code: e.code, message: e.message }));
  return { format: `qemu@${v}`, items, bytes: input.offset, notes, ...(warnings.length ? { warnings } : {}) };
}

