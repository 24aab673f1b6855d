/**
 * The savevm stream as a sequence of events, read in one forward pass.
 *
 * RAM sections stream record by record (page payloads skipped on seekable
 * sources unless asked for). Device sections are not self-delimiting: their
 * layout is in the vmdesc trailer at the very end. So at the first device
 * section the rest of the stream (device state plus vmdesc, small next to RAM)
 * is buffered once, the vmdesc is found at its end, and parsing continues
 * over the buffered bytes with the same absolute offsets.
 */
import {
  ByteReader,
  LimitError,
  MalformedError,
  TruncatedError,
  WireError,
  checkCount,
  hex,
  StreamReader,
} from "@vmstream/framing";
import {
  DEFAULT_PAGE_SIZE,
  MAX_TAIL,
  MIG_CMD,
  MIG_CMD_PACKAGED,
  MIG_CMD_POSTCOPY_ADVISE,
  QEMU_SECTION,
  QEMU_VM_FILE_MAGIC,
  QEMU_VM_SUBSECTIONS_END,
} from "./constants.js";
import { bytesToLatin1 } from "../latin1.js";
import { RamState, plainRun, readRamRecord, type RamRecord } from "./ram.js";
import { loadDocument } from "../schema/document-codec.js";
import { deviceKey, locateDamagedVmdesc, locateVmdesc, parseVmdesc, type DeviceDesc, type Vmdesc } from "./vmdesc.js";

export type SectionKind = "start" | "part" | "end" | "full";
export const SECTION_KINDS: Record<number, SectionKind> = {
  [QEMU_SECTION.SECTION_START]: "start",
  [QEMU_SECTION.SECTION_PART]: "part",
  [QEMU_SECTION.SECTION_END]: "end",
  [QEMU_SECTION.SECTION_FULL]: "full",
};
export const SECTION_CODES: Record<SectionKind, number> = { start: 1, part: 2, end: 3, full: 4 };

export interface ConfigSub {
  name: string;
  version: number;
  data: Uint8Array;
}

export type Ev =
  | { t: "header"; offset: number; version: number }
  | { t: "config"; offset: number; name: string; subs: ConfigSub[] }
  | { t: "command"; offset: number; cmd: number; data: Uint8Array; pkg: Uint8Array | null }
  | { t: "section"; offset: number; kind: SectionKind; id: number; idstr: string; instance: number; version: number; body: "ram" | "state" | "raw" }
  | { t: "ram"; rec: RamRecord }
  /** Plain PAGE/ZERO records, whole (only with `ramRuns`): a view valid until the next event. */
  | { t: "ramRun"; offset: number; bytes: Uint8Array }
  | { t: "state"; offset: number; dev: DeviceDesc; value: Record<string, unknown> }
  | { t: "raw"; offset: number; data: Uint8Array }
  | { t: "end"; offset: number; id: number; footer: boolean }
  | { t: "eof"; offset: number }
  | { t: "vmdesc"; offset: number; bytes: Uint8Array; vmdesc: Vmdesc | null };

export interface ParseOptions {
  /** File version the stream must carry (3 or 4). */
  version: number;
  /** Keep RAM page payloads (decode, recode) or skip them (inspect, verify). */
  pages: boolean;
  /** Target page size when the stream does not give it (default 4096). */
  pageSize?: number | undefined;
  /** A vmdesc borrowed from a sibling stream, for streams that carry none. */
  borrowed?: Vmdesc | null | undefined;
  /**
   * Emit only the RAM records that carry a block list (MEM_SIZE): readers that
   * need totals and blocks, not each page, avoid one generator hop per page.
   */
  ramBlocksOnly?: boolean;
  /**
   * Emit runs of plain page records as their bytes (`ramRun`), not a `ram`
   * event each: for writers that copy RAM through unchanged (recode, convert).
   */
  ramRuns?: boolean;
  /** A PACKAGED command's nested stream: no header, no configuration, nothing after EOF. */
  headerless?: boolean;
  /**
   * Damage QEMU's loader never sees (the vmdesc trailer after the EOF byte,
   * bytes after it) is recorded in `ParseState.warnings` instead of thrown;
   * device sections are then checked with what is left (footers, scanning).
   * For verify and inspect; lossless readers (decode, recode) keep failing.
   */
  lenient?: boolean;
}

/** What the parser learned, readable while and after events flow. */
export class ParseState {
  ram: RamState;
  footers: boolean | undefined = undefined;
  vmdesc: Vmdesc | null = null;
  vmdescOffset = -1;
  /** Sections whose bodies were delimited by scanning (no schema): boundaries are a best guess. */
  guessed = 0;
  /** Damage after the VM state (lenient mode only): the stream loads, the file is not intact. */
  readonly warnings: WireError[] = [];
  /** The stream carries a vmdesc trailer that could not be read (lenient mode). */
  vmdescDamaged = false;
  /** Its length runs past the end of the stream (reported once, by the trailer reader). */
  vmdescCut = false;
  readonly iterables = new Map<number, { idstr: string; body: "ram" | "raw" }>();
  readonly fullIds = new Set<number>();
  tail = false;
  size = 0;
  constructor(pageSize: number) {
    this.ram = new RamState(pageSize);
  }
}

/**
 * Buffered bytes below which a RAM section refills before looking for a run
 * of plain records: a refill then reads a whole chunk, so runs are long.
 */
const RUN_FILL = 64 << 10;

const be32 = (b: Uint8Array, p: number): number => ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;

export async function* parseStream(input: StreamReader, o: ParseOptions, st: ParseState): AsyncGenerator<Ev> {
  let version = o.version;
  if (!o.headerless) {
    const h = await input.read(8, "file header");
    const magic = h.u32be();
    if (magic !== QEMU_VM_FILE_MAGIC)
      throw new WireError("BAD_MAGIC", "not a QEMU savevm stream", 0, { expected: hex(QEMU_VM_FILE_MAGIC, 8), found: hex(magic, 8) });
    version = h.u32be();
    if (version !== o.version)
      throw new WireError("UNSUPPORTED_VERSION", version === 2 ? "savevm v2 format is obsolete" : "unexpected file version", 4, {
        expected: String(o.version),
        found: String(version),
      });
    yield { t: "header", offset: 0, version };
  }
  const v4 = version === 4;

  if (!o.headerless && (await input.fill(1)) && input.peek(1)[0] === QEMU_SECTION.CONFIGURATION) {
    const ev = await readConfig(input, v4);
    for (const s of ev.subs) {
      if (s.name === "configuration/target-page-bits" && s.data.byteLength === 4) {
        const bits = be32(s.data, 0);
        if (bits < 9 || bits > 30) throw new MalformedError("target page bits out of range", ev.offset, { found: String(bits) });
        st.ram.pageSize = 2 ** bits;
      }
      if (s.name === "configuration/capabilities") {
        const caps = capabilities(s.data);
        st.ram.ignoreShared = caps.includes("x-ignore-shared");
        st.ram.mappedRam = caps.includes("mapped-ram");
      }
    }
    yield ev;
  }

  for (;;) {
    const at = input.offset;
    if (input.buffered < 1 && !(await input.fill(1))) throw new TruncatedError("section type (no EOF)", at, 1, 0);
    const type = input.take(1)[0]!;
    switch (type) {
      case QEMU_SECTION.EOF: {
        yield { t: "eof", offset: at };
        if (o.headerless) {
          if (!(await input.atEnd())) throw new WireError("TRAILING_BYTES", "bytes after the EOF of a packaged stream", input.offset);
          return;
        }
        const tv = await readTrailer(input, st, o);
        if (tv) yield tv;
        return;
      }
      case QEMU_SECTION.COMMAND: {
        const r = await input.read(4, "command header");
        const cmd = r.u16be();
        const len = r.u16be();
        const def = MIG_CMD[cmd];
        if (!def) throw new MalformedError(`unknown QEMU_VM_COMMAND ${cmd}`, at + 1, { expected: "1..11" });
        if (def.len >= 0 && len !== def.len)
          throw new MalformedError(`command ${def.name} has the wrong length`, at + 3, { expected: String(def.len), found: String(len) });
        await input.need(len, `command ${def.name}`);
        const data = input.take(len).slice();
        let pkg: Uint8Array | null = null;
        if (cmd === MIG_CMD_PACKAGED) {
          const n = be32(data, 0);
          const avail = input.size !== undefined ? input.size - input.offset : Number.MAX_SAFE_INTEGER;
          checkCount(n, 1, avail, "packaged stream length", at + 5);
          if (n > MAX_TAIL) throw new LimitError(`packaged stream of ${n} bytes`, at + 5);
          await input.need(n, "packaged stream");
          const base = input.offset;
          pkg = input.take(n).slice();
          await checkPackage(pkg, base, st, o);
        }
        if (cmd === MIG_CMD_POSTCOPY_ADVISE && len === 16) st.ram.postcopyAdvised = true;
        yield { t: "command", offset: at, cmd, data, pkg };
        continue;
      }
      case QEMU_SECTION.SECTION_START:
      case QEMU_SECTION.SECTION_FULL:
      case QEMU_SECTION.SECTION_PART:
      case QEMU_SECTION.SECTION_END:
        break;
      default:
        throw new MalformedError(`unknown section type ${hex(type, 2)}`, at, {
          expected: st.footers === undefined ? "a section, command or EOF" : "a section, command or EOF after the previous footer",
        });
    }
    const kind = SECTION_KINDS[type]!;
    let id: number;
    let idstr = "";
    let instance = 0;
    let sversion = 0;
    let body: "ram" | "state" | "raw";
    let dev: DeviceDesc | undefined;
    if (kind === "start" || kind === "full") {
      const r = await input.read(5, "section header");
      id = r.u32be();
      const n = r.u8();
      if (n === 0) throw new MalformedError("empty section idstr", at + 5);
      const rest = await input.read(n + 8, "section header");
      idstr = bytesToLatin1(rest.bytesView(n));
      instance = rest.u32be();
      sversion = rest.u32be();
      if (idstr === "ram") {
        // QEMU registers RAM once, as instance 0: any other is a section the destination does not know.
        if (instance !== 0) throw new MalformedError(`unknown savevm section or instance 'ram' ${instance}: QEMU registers RAM as instance 0`, at + 6 + n, { expected: "0", found: String(instance) });
        if (sversion !== 4) throw new MalformedError("RAM section version is not 4", at + 6 + n + 4, { expected: "4", found: String(sversion) });
        body = "ram";
        st.iterables.set(id, { idstr, body });
      } else if (kind === "start") {
        body = "raw";
        st.iterables.set(id, { idstr, body });
      } else {
        await ensureTail(input, st, o);
        dev = st.vmdesc ? ownDevice(st.vmdesc, idstr, instance, sversion, at) : o.borrowed?.devices.get(deviceKey(idstr, instance));
        body = dev ? "state" : "raw";
        st.fullIds.add(id);
      }
    } else {
      const r = await input.read(4, "section header");
      id = r.u32be();
      const it = st.iterables.get(id);
      if (!it) throw new MalformedError(`${kind.toUpperCase()} for section id ${id} that no START opened`, at + 1);
      idstr = it.idstr;
      body = it.body;
    }
    yield { t: "section", offset: at, kind, id, idstr, instance, version: sversion, body };
    if (body === "ram") {
      // Runs of plain page records, taken in bulk; a mapped-ram stream has none
      // (its pages sit at file offsets), and buffering 64 KiB for them would
      // read megabytes of holes at each block a verify otherwise seeks over.
      const runs = (o.ramRuns === true || o.ramBlocksOnly === true) && !st.ram.mappedRam;
      for (;;) {
        if (runs) {
          if (input.buffered < RUN_FILL) await input.fill(RUN_FILL);
          const n = plainRun(input.peek(input.buffered), st.ram);
          if (n > 0) {
            const offset = input.offset;
            const bytes = input.take(n);
            if (o.ramRuns) yield { t: "ramRun", offset, bytes };
            continue;
          }
        }
        const rec = await readRamRecord(input, st.ram, o.pages);
        if (!o.ramBlocksOnly || rec.blocks) yield { t: "ram", rec };
        if (rec.flags & 0x10) break;
      }
    } else if (body === "state") {
      const bat = input.offset;
      const view = input.peek(input.buffered);
      const r = new ByteReader(view, bat);
      let value: Record<string, unknown> | null = null;
      try {
        value = loadDocument(dev!.plan, r, v4);
      } catch (e) {
        // A borrowed schema may not fit this stream's device state: keep the body raw then.
        if (!(e instanceof WireError) || st.vmdesc) {
          if (e instanceof WireError) e.message += ` (section ${idstr} read as the stream's vmdesc describes it)`;
          throw e instanceof WireError ? e.within(`${idstr}(${id})`) : e;
        }
      }
      if (value && !st.vmdesc) {
        // Borrowed schema: accept the parse only if the next section plausibly starts where it ended.
        const q = r.pos;
        const ok = st.footers === false ? plausibleHeader(view, q, st) : view[q] === 0x7e && q + 5 <= view.byteLength && be32(view, q + 1) === id;
        if (!ok) value = null;
      }
      if (value) {
        input.take(r.pos);
        yield { t: "state", offset: bat, dev: dev!, value };
      } else {
        const n = await scanRaw(input, st, id, type === QEMU_SECTION.SECTION_FULL);
        st.guessed++;
        yield { t: "raw", offset: input.offset, data: input.take(n) };
      }
    } else {
      const n = await scanRaw(input, st, id, type === QEMU_SECTION.SECTION_FULL);
      st.guessed++;
      yield { t: "raw", offset: input.offset, data: input.take(n) };
    }
    // Footers: machine types after 2.3 write them, older ones do not; the first section tells.
    const fat = input.offset;
    if (st.footers === undefined) st.footers = (await input.fill(1)) && input.peek(1)[0] === QEMU_SECTION.SECTION_FOOTER;
    if (st.footers) {
      await input.need(1, "section footer");
      const b = input.take(1)[0]!;
      if (b !== QEMU_SECTION.SECTION_FOOTER)
        throw new MalformedError(`missing section footer for ${idstr}`, fat, { expected: "0x7e", found: hex(b, 2) });
      const r = await input.read(4, "section footer");
      const fid = r.u32be();
      if (fid !== id) throw new MalformedError(`mismatched section id in footer for ${idstr}`, fat + 1, { expected: String(id), found: String(fid) });
    }
    yield { t: "end", offset: fat, id, footer: st.footers };
  }
}

export function capabilities(data: Uint8Array): string[] {
  const r = new ByteReader(data);
  const out: string[] = [];
  const n = r.u32be();
  for (let i = 0; i < n && !r.done; i++) out.push(bytesToLatin1(r.bytesView(r.u8())));
  return out;
}

/** Bodies of the configuration subsections QEMU defines (savevm.c). */
function configSubBody(r: ByteReader, name: string, at: number): Uint8Array {
  const start = r.pos;
  switch (name) {
    case "configuration/target-page-bits":
      r.skip(4, "target page bits");
      break;
    case "configuration/uuid":
      r.skip(16, "uuid");
      break;
    case "configuration/capabilities": {
      const cat = r.offset;
      const n = r.u32be();
      checkCount(n, 1, r.remaining, "capability count", cat);
      for (let i = 0; i < n; i++) {
        const l = r.u8();
        r.skip(l, "capability name");
      }
      break;
    }
    default:
      throw new MalformedError(`unknown configuration subsection "${name}"`, at, { expected: "target-page-bits, capabilities or uuid" });
  }
  return r.bytes.subarray(start, r.pos).slice();
}

/** What the configuration section is first parsed from; real ones are a few hundred bytes. */
const CONFIG_FIRST = 32 << 10;
/** The largest configuration section read (a machine name alone may be 64 KiB). */
const CONFIG_MAX = 1 << 20;
/** How far past its end a v3 configuration peeks for another subsection (0x05, a length, up to 255 name bytes). */
const CONFIG_PEEK = 2 + 255;

/**
 * The configuration section has no length, so it is parsed from what is
 * buffered: first 32 KiB (within the reader's first read), which holds any
 * real one, and again from 1 MiB only when the parse ran out or came near
 * that end. Buffering 1 MiB at once made every stream's second read a whole
 * 4 MiB chunk: a mapped-ram verify, which then seeks over everything, read
 * 4 MiB of holes into fresh memory.
 */
async function readConfig(input: StreamReader, v4: boolean): Promise<Ev & { t: "config" }> {
  if (await input.fill(CONFIG_FIRST)) {
    try {
      const c = configFrom(input, v4);
      if (c.used + CONFIG_PEEK <= input.buffered) {
        input.take(c.used);
        return c.ev;
      }
    } catch (e) {
      if (!(e instanceof TruncatedError)) throw e;
    }
  }
  await input.fill(CONFIG_MAX);
  const c = configFrom(input, v4);
  input.take(c.used);
  return c.ev;
}

/** The configuration section parsed from the buffered bytes (nothing consumed), and its length. */
function configFrom(input: StreamReader, v4: boolean): { ev: Ev & { t: "config" }; used: number } {
  const offset = input.offset;
  const view = input.peek(input.buffered);
  const r = new ByteReader(view, offset);
  r.u8();
  const len = r.u32be();
  if (len > 65536) throw new LimitError(`machine name of ${len} bytes`, offset + 1);
  const name = bytesToLatin1(r.bytesView(len, "machine name"));
  const subs: ConfigSub[] = [];
  for (;;) {
    const sat = r.offset;
    if (v4) {
      const b = r.u8();
      if (b === QEMU_VM_SUBSECTIONS_END) break;
      if (b !== QEMU_SECTION.SUBSECTION)
        throw new MalformedError("no subsection or SUBSECTIONS_END after the configuration", sat, { expected: "0x05 or 0x09", found: hex(b, 2) });
    } else {
      // QEMU's peek: a subsection only if 0x05 and a name starting with the vmsd name.
      if (r.remaining < 2 || view[r.pos] !== QEMU_SECTION.SUBSECTION) break;
      const l = view[r.pos + 1]!;
      if (l < 14 || r.remaining < 2 + l || bytesToLatin1(view.subarray(r.pos + 2, r.pos + 2 + 13)) !== "configuration") break;
      r.u8();
    }
    const sname = bytesToLatin1(r.bytesView(r.u8(), "subsection name"));
    const version = r.u32be();
    const data = configSubBody(r, sname, sat);
    if (v4) {
      const e = r.offset;
      const b = r.u8();
      if (b !== QEMU_VM_SUBSECTIONS_END) throw new MalformedError(`no SUBSECTIONS_END after ${sname}`, e, { expected: "0x09", found: hex(b, 2) });
    }
    subs.push({ name: sname, version, data });
  }
  return { ev: { t: "config", offset, name, subs }, used: r.pos };
}

/** Buffer the rest of the stream and find its vmdesc (once, at the first device section). */
async function ensureTail(input: StreamReader, st: ParseState, o: ParseOptions): Promise<void> {
  if (st.tail) return;
  st.tail = true;
  if (await input.fill(MAX_TAIL + 1)) throw new LimitError(`more than ${MAX_TAIL} bytes of device state after RAM`, input.offset);
  const view = input.peek(input.buffered);
  let p = locateVmdesc(view);
  let json = p < 0 ? null : view.subarray(p + 5);
  if (p < 0 && o.lenient) {
    // A cut trailer, or bytes after it: still read what the trailer holds, so
    // the sections before it are checked (the damage is reported after EOF).
    const d = locateDamagedVmdesc(view);
    if (d) {
      p = d.at;
      json = view.subarray(p + 5, p + 5 + d.present);
      st.vmdescCut = d.present < d.length;
    }
  }
  if (p < 0 || !json) return;
  const jat = input.offset + p + 5;
  let vd: Vmdesc;
  try {
    vd = parseVmdesc(json, jat);
    // Format 3 (what QEMU writes): a self-contradicting description would blame a device for its own damage.
    if (o.version === 3 && vd.contradiction) throw new MalformedError(`vmdesc contradicts itself: ${vd.contradiction}`, jat);
  } catch (e) {
    if (!o.lenient || !(e instanceof WireError)) throw e;
    // QEMU never reads the trailer: its damage makes the file suspect, not the VM state.
    if (!st.vmdescCut) st.warnings.push(e);
    st.vmdescDamaged = true;
    st.vmdescOffset = input.offset + p;
    return;
  }
  st.vmdesc = vd;
  st.vmdescOffset = input.offset + p;
  if (vd.pageSize !== undefined && vd.pageSize !== st.ram.pageSize) {
    if (st.ram.used || o.pageSize !== undefined)
      throw new MalformedError("vmdesc page_size differs from the page size the RAM section was read with", jat, {
        expected: String(st.ram.pageSize),
        found: String(vd.pageSize),
      });
    st.ram.pageSize = vd.pageSize;
  }
}

/** After EOF: nothing, or `0x06, be32 N, N bytes of JSON` running exactly to the end. */
async function readTrailer(input: StreamReader, st: ParseState, o: ParseOptions): Promise<Ev | null> {
  if (!o.lenient) return trailer(input, st);
  try {
    return await trailer(input, st);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    // QEMU reads the trailer only to discard it ("Expected vmdescription section" is not an error to it).
    e.message = `vmdesc trailer: ${e.message}`;
    st.warnings.push(e);
    while (await input.fill(1)) input.discard(input.buffered);
    return null;
  }
}

async function trailer(input: StreamReader, st: ParseState): Promise<Ev | null> {
  const at = input.offset;
  if (!(await input.fill(1))) {
    if (st.vmdesc) throw new MalformedError("EOF before the vmdesc trailer found at the end", at);
    return null;
  }
  const b = input.take(1)[0]!;
  if (b !== QEMU_SECTION.VMDESCRIPTION)
    throw new WireError("TRAILING_BYTES", "bytes after EOF that are not a vmdesc trailer", at, { expected: "0x06", found: hex(b, 2) });
  const r = await input.read(4, "vmdesc length");
  const n = r.u32be();
  if (input.size !== undefined) checkCount(n, 1, input.size - input.offset, "vmdesc length", at + 1);
  if (n > MAX_TAIL) throw new LimitError(`vmdesc of ${n} bytes`, at + 1);
  await input.need(n, "vmdesc");
  const jat = input.offset;
  const bytes = input.take(n).slice();
  if (!(await input.atEnd())) throw new WireError("TRAILING_BYTES", "bytes after the vmdesc trailer", input.offset);
  if ((st.vmdesc || st.vmdescDamaged) && st.vmdescOffset !== at) throw new MalformedError("vmdesc trailer is not where the end of the stream says", at);
  // A trailer already found damaged was reported once; its bytes are still the stream's.
  const vd = st.vmdesc ?? (st.vmdescDamaged ? null : parseVmdesc(bytes, jat));
  st.vmdesc = vd;
  st.vmdescOffset = at;
  return { t: "vmdesc", offset: at, bytes, vmdesc: vd };
}

/**
 * The stream's own vmdesc lists every FULL section QEMU wrote (savevm.c writes
 * the entry and the section together), so a section it does not list was not
 * written by QEMU: the destination would refuse it ("Unknown savevm section or
 * instance"). Likewise a section version other than its entry's.
 */
function ownDevice(vd: Vmdesc, idstr: string, instance: number, version: number, at: number): DeviceDesc {
  const n = idstr.length;
  const dev = vd.devices.get(deviceKey(idstr, instance));
  if (!dev) {
    let known = false;
    for (const d of vd.devices.values()) if (d.name === idstr) known = true;
    // Point at the field that differs from every listed section: the instance if the idstr is listed, else the idstr.
    throw new MalformedError(
      `unknown savevm section or instance '${idstr}' ${instance}: the stream's own vmdesc does not list ${known ? "that instance" : "that section"}`,
      known ? at + 6 + n : at + 6,
    );
  }
  // QEMU writes the section version and the vmdesc version from the same
  // vmsd->version_id. Newer: the loader refuses it; older: it refuses it below
  // minimum_version_id (which the stream does not say) or reads another field set.
  const listed = dev.vmsd.vmdesc!;
  if (listed.vmstate && version !== listed.version)
    throw new MalformedError(`section ${idstr} has version ${version}, its vmdesc description version ${listed.version}`, at + 10 + n, {
      expected: String(listed.version),
      found: String(version),
    });
  return dev;
}

const PLAUSIBLE_NEXT = new Set([0x00, 0x01, 0x02, 0x03, 0x04, 0x08]);

/**
 * Length of a section body nothing describes (no vmdesc entry, unknown
 * iterable section). With footers the body ends at the first `0x7e <id>`
 * followed by a plausible section type; without, at the first plausible
 * section header or the final EOF. The bytes are kept whole, so a wrong guess
 * still re-encodes identically; only the split between sections may be off.
 */
async function scanRaw(input: StreamReader, st: ParseState, id: number, full: boolean): Promise<number> {
  let from = 0;
  for (;;) {
    const view = input.peek(input.buffered);
    const n = view.byteLength;
    if (st.footers !== false) {
      for (let p = from; p + 5 < n; p++) {
        if (view[p] === 0x7e && be32(view, p + 1) === id && PLAUSIBLE_NEXT.has(view[p + 5]!)) {
          if (st.footers === undefined) st.footers = true;
          return p;
        }
      }
    }
    if (st.footers !== true) {
      for (let p = from; p < n; p++) {
        if (plausibleHeader(view, p, st)) return p;
      }
    }
    const more = st.tail ? false : await input.fill(n + (1 << 20));
    if (!more && input.buffered === n) {
      if (full || st.tail) throw new MalformedError(`cannot find the end of section ${id}: no vmdesc entry and no footer`, input.offset);
      throw new MalformedError(`cannot find the end of iterable section ${id}`, input.offset);
    }
    if (n > MAX_TAIL) throw new LimitError(`section ${id} body beyond ${MAX_TAIL} bytes`, input.offset);
    from = Math.max(0, n - 300);
  }
}

function plausibleHeader(v: Uint8Array, p: number, st: ParseState): boolean {
  const t = v[p]!;
  const n = v.byteLength;
  if (t === QEMU_SECTION.EOF) {
    if (p + 1 === n) return true;
    return v[p + 1] === QEMU_SECTION.VMDESCRIPTION && p + 6 <= n && be32(v, p + 2) === n - p - 6;
  }
  if (t !== QEMU_SECTION.SECTION_FULL && t !== QEMU_SECTION.SECTION_START) return false;
  if (p + 6 > n) return false;
  const id = be32(v, p + 1);
  if (id > 0xffff || st.fullIds.has(id) || st.iterables.has(id)) return false;
  const l = v[p + 5]!;
  if (l === 0 || p + 6 + l + 8 > n) return false;
  for (let i = 0; i < l; i++) {
    const c = v[p + 6 + i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  const inst = be32(v, p + 6 + l);
  const ver = be32(v, p + 10 + l);
  return inst <= 0xffff && ver <= 0xffff;
}

/**
 * Walk a PACKAGED command's nested stream (POSTCOPY_LISTEN, device sections,
 * PING, POSTCOPY_RUN, EOF) so faults inside it are found; its bytes are kept
 * whole by the caller. Offsets are made absolute.
 */
async function checkPackage(pkg: Uint8Array, base: number, st: ParseState, o: ParseOptions): Promise<void> {
  const inner = new ParseState(st.ram.pageSize);
  inner.footers = st.footers;
  try {
    for await (const _ of parseStream(StreamReader.of(pkg), { ...o, headerless: true, pages: false, ramBlocksOnly: true, ramRuns: false, borrowed: st.vmdesc ?? o.borrowed }, inner)) {
      // events are only checked here
    }
  } catch (e) {
    if (e instanceof WireError) {
      e.offset += base;
      e.within("package");
    }
    throw e;
  }
}
