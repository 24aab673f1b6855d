/**
 * Shared plumbing of the codec operations: option handling, the borrowed
 * schema, and the event pump that re-encodes a stream (recode, convert).
 */
import { LimitError, RefusedError, type CodecOptions, type Sink, type StreamReader, readAll } from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE } from "./constants.js";
import { parseStream, ParseState, type ParseOptions } from "./parse.js";
import { compileVmdesc, locateVmdesc, type Vmdesc } from "./vmdesc.js";
import { QemuWriter } from "./writer.js";
import { LayoutConverter, layoutOpt } from "./layout.js";

export function parseVersion(version: string): number {
  if (version !== "3" && version !== "4") throw new RefusedError(`qemu@${version} is not a known version`, 0, { expected: "3 or 4" });
  return Number(version);
}

export function pageSizeOpt(opts: CodecOptions): number | undefined {
  const p = opts["pageSize"];
  return typeof p === "number" && p >= 512 && (p & (p - 1)) === 0 ? p : undefined;
}

const SIBLING_TAIL = 32 * 1024 * 1024;
const td = new TextDecoder();

/**
 * The vmdesc of a sibling stream (`opts.schema`), for streams that carry none
 * (machine types up to 2.2, postcopy). The sibling may be a whole savevm
 * stream or a bare vmdesc JSON document.
 */
export async function loadBorrowed(opts: CodecOptions): Promise<{ vmdesc: Vmdesc | null; note: string | null }> {
  if (!opts.schema) return { vmdesc: null, note: null };
  const r: StreamReader = await opts.schema();
  try {
    await r.fill(8);
    const head = r.peek(8);
    if (head[0] === 0x51 && head[1] === 0x45 && head[2] === 0x56 && head[3] === 0x4d) {
      // Only the end matters; skip the sibling's RAM when its size is known.
      if (r.size !== undefined && r.size > SIBLING_TAIL) await r.skip(r.size - SIBLING_TAIL);
      if (await r.fill(SIBLING_TAIL + 1)) throw new LimitError("sibling stream too large to find its vmdesc", 0);
      const tail = r.peek(r.buffered);
      const p = locateVmdesc(tail);
      if (p < 0) return { vmdesc: null, note: "the sibling stream has no vmdesc either" };
      const text = td.decode(tail.subarray(p + 5));
      return { vmdesc: compileVmdesc(JSON.parse(text), text, 0), note: "device sections parsed with the sibling stream's vmdesc" };
    }
    const bytes = await readAll(r);
    if (bytes.byteLength > SIBLING_TAIL) throw new LimitError("schema document too large", 0);
    const text = td.decode(bytes);
    const json = JSON.parse(text) as Record<string, unknown>;
    if (json && typeof json === "object" && Array.isArray(json["devices"]))
      return { vmdesc: compileVmdesc(json, text, 0), note: "device sections parsed with the given vmdesc" };
    return { vmdesc: null, note: "the schema is not a vmdesc (a -dump-vmstate file has no types or sizes to delimit sections with)" };
  } catch (e) {
    if (e instanceof SyntaxError) return { vmdesc: null, note: "the schema is not JSON" };
    throw e;
  } finally {
    await r.close();
  }
}

/** Parse `input` and write it again at `outVersion` (the same version: recode). */
export async function pump(input: StreamReader, inVersion: number, outVersion: number, out: Sink, opts: CodecOptions): Promise<ParseState> {
  const borrowed = (await loadBorrowed(opts)).vmdesc;
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  const layout = layoutOpt(opts);
  const po: ParseOptions = { version: inVersion, pages: true, ramRuns: layout === undefined, pageSize: ps, borrowed };
  const w = new QemuWriter(out, outVersion, st.ram.pageSize);
  const lay = layout ? new LayoutConverter(layout, opts, po) : null;
  let cur = "";
  let curKind = "";
  try {
    for await (const ev of parseStream(input, po, st)) {
      if (lay && (await lay.handle(ev, st, w))) {
        await w.maybeFlush();
        continue;
      }
      switch (ev.t) {
        case "header":
          w.header();
          break;
        case "config":
          w.config(ev.name, ev.subs);
          break;
        case "command":
          w.command(ev.cmd, ev.data, ev.pkg);
          break;
        case "section":
          w.ram.pageSize = st.ram.pageSize;
          cur = `${ev.idstr} (${ev.id})`;
          curKind = ev.kind;
          w.section(ev.kind, ev.id, ev.idstr, ev.instance, ev.version);
          break;
        case "ram":
          await w.ramRecord(ev.rec);
          break;
        case "ramRun":
          await w.ramRun(ev.bytes);
          w.ram.current = st.ram.current;
          break;
        case "state":
          if (inVersion !== outVersion && ev.dev.opaque)
            throw new RefusedError(`section ${cur} holds a qtailq/qlist/gtree whose nested descriptions the vmdesc does not give: cannot convert it to qemu@${outVersion}`, ev.offset);
          w.state(ev.dev.plan, ev.value, cur);
          break;
        case "raw":
          if (inVersion !== outVersion && curKind === "full")
            throw new RefusedError(`section ${cur} has no vmdesc entry: its structs and subsections cannot be marked for qemu@${outVersion}`, ev.offset);
          w.raw(ev.data);
          break;
        case "end":
          if (ev.footer) w.footer(ev.id);
          break;
        case "eof":
          w.eof();
          break;
        case "vmdesc":
          w.vmdesc(ev.bytes);
          break;
      }
      await w.maybeFlush();
    }
    await w.flush();
    await out.close();
  } catch (e) {
    await out.abort?.();
    throw e;
  }
  return st;
}
