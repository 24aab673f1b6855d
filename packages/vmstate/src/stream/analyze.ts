/**
 * `inspect --view analyze`: the value QEMU 10.0's scripts/analyze-migration.py
 * prints with `-d state`, and its exact text (Python's json.dumps with
 * indent=4, ensure_ascii). Built from the same parse as everything else;
 * streams the script cannot read (commands, configuration subsections) give
 * what it would print if it skipped them.
 */
import { ByteWriter, RefusedError, safeObject, type CodecOptions, type StreamReader } from "@vmstream/framing";
import { DEFAULT_PAGE_SIZE } from "./constants.js";
import { latin1AsUtf8 } from "../latin1.js";
import { type Ev, parseStream, ParseState } from "./parse.js";
import { loadBorrowed, pageSizeOpt, parseVersion } from "./pipeline.js";
import { saveDocument } from "../schema/document-codec.js";
import { compileVmsd } from "../schema/plan.js";
import type { FieldPlan, VmsdPlan } from "../schema/plan-types.js";
import { Az } from "../schema/type-names.js";

/** Python dicts keep insertion order and re-assignment keeps the first position: so do Maps. */
export type PyValue = string | boolean | PyValue[] | Map<string, PyValue>;

export async function analyzeView(input: StreamReader, version: string, opts: CodecOptions): Promise<{ value: unknown; text: string; py: PyValue }> {
  const v = parseVersion(version);
  const b = await loadBorrowed(opts);
  const ps = pageSizeOpt(opts);
  const st = new ParseState(ps ?? DEFAULT_PAGE_SIZE);
  const view = new AnalyzeEvents(st, b.vmdesc !== null);
  for await (const ev of parseStream(input, { version: v, pages: false, ramBlocksOnly: true, pageSize: ps, borrowed: b.vmdesc }, st)) {
    view.event(ev);
    if (view.refused) throw view.refused;
  }
  const top = view.finish();
  return { value: toPlain(top), text: pyJson(top, 0) + "\n", py: top };
}

/**
 * The analyze view built from parse events, so a pass that reads the stream
 * for something else (diff's RAM pass) gets it without a second read. What
 * analyze-migration cannot read is kept in `refused` (the first such event)
 * and thrown by `finish`.
 */
export class AnalyzeEvents {
  private readonly sections = new Map<number, { idstr: string; data: Map<string, PyValue> }>();
  private sizes: Map<string, PyValue> | null = null;
  private cur = { idstr: "", id: 0 };
  refused: RefusedError | null = null;
  constructor(
    private readonly st: ParseState,
    private readonly borrowed: boolean,
  ) {}

  event(ev: Ev): void {
    const { sections } = this;
    switch (ev.t) {
      case "section":
        this.cur = { idstr: ev.idstr, id: ev.id };
        if (ev.body === "ram") {
          if (ev.kind === "start" || ev.kind === "full") {
            this.sizes = new Map();
            sections.set(ev.id, { idstr: ev.idstr, data: new Map([["section sizes", this.sizes]]) });
          } else {
            this.sizes = (sections.get(ev.id)?.data.get("section sizes") as Map<string, PyValue> | undefined) ?? null;
          }
        }
        break;
      case "ram":
        if (ev.rec.blocks && this.sizes) for (const bl of ev.rec.blocks) this.sizes.set(latin1AsUtf8(bl.name), `0x${bl.length.toString(16).padStart(16, "0")}`);
        break;
      case "state":
        sections.set(this.cur.id, { idstr: this.cur.idstr, data: analyzeDesc(ev.dev.plan, ev.value) });
        break;
      case "raw":
        this.refused ??= new RefusedError(
          `section ${this.cur.idstr} (${this.cur.id}) has no vmdesc entry, so analyze-migration cannot read it${this.st.vmdesc || this.borrowed ? "" : " (the stream has no vmdesc; pass a sibling stream as schema)"}`,
          ev.offset,
        );
        break;
      default:
        break;
    }
  }

  /** The view (Python's dict order) once the stream has ended. */
  finish(): Map<string, PyValue> {
    if (this.refused) throw this.refused;
    if (!this.st.vmdesc && !this.borrowed) throw new RefusedError("the stream has no vmdesc trailer; analyze-migration cannot read it", 0);
    const top = new Map<string, PyValue>();
    for (const [id, s] of this.sections) top.set(`${latin1AsUtf8(s.idstr)} (${id | 0})`, s.data);
    return top;
  }

  /** The view as plain JSON values (what `inspect --view analyze --json` gives). */
  plain(): Record<string, unknown> {
    return toPlain(this.finish()) as Record<string, unknown>;
  }
}

/**
 * QEMU 10.0's reader keys a struct's data by field name: the first entry with a
 * name holds its value, a second turns it into a list of both, later ones are
 * appended. Every element is an entry (`array_len` is unfolded), so arrays of
 * structs that 10.0 describes as separate entries print as one list.
 */
function analyzeDesc(plan: VmsdPlan, value: Record<string, unknown>): Map<string, PyValue> {
  const m = new Map<string, PyValue>();
  for (const f of plan.fields) {
    const s = f.def.vmdesc!;
    const v = value[f.key];
    if (s.index >= 0) put(m, s.name, elem(f, (v as unknown[])[s.index]));
    else if (s.total > 0) for (const x of v as unknown[]) put(m, s.name, elem(f, x));
    else put(m, s.name, elem(f, v));
  }
  const subs = plan.subsections();
  const keys = plan.vmsd.vmdesc!.keys;
  for (let k = 0; k < subs.length; k++) m.set(latin1AsUtf8(subs[k]!.vmsd.name), analyzeDesc(subs[k]!, value[keys[k]!] as Record<string, unknown>));
  return m;
}

/** Element values are never lists, so a list under a name is one this function made. */
function put(m: Map<string, PyValue>, name: string, x: PyValue): void {
  const old = m.get(name);
  if (old === undefined) m.set(name, x);
  else if (Array.isArray(old)) old.push(x);
  else m.set(name, [old, x]);
}

function elem(f: FieldPlan, v: unknown): PyValue {
  const s = f.def.vmdesc!;
  // QEMU 10.0 marks a NULL entry of an array of pointers with the byte '0' and a type the script prints by name.
  if (s.type === "nullptr") return "nullptr";
  const bytes = f.def.type === "buffer";
  switch (s.az) {
    case Az.Struct:
      return analyzeDesc(compileVmsd(f.def.vmsd!), v as Record<string, unknown>);
    case Az.Bool:
      if (!bytes) return v !== false && v !== 0;
      return (v as Uint8Array).byteLength > 0 && (v as Uint8Array)[0] !== 0;
    case Az.Int:
    case Az.UInt: {
      const bits = BigInt(s.size * 8);
      let x: bigint;
      if (bytes) {
        x = 0n;
        for (const c of v as Uint8Array) x = (x << 8n) | BigInt(c);
        if (s.az === Az.Int && s.size > 0 && x >> (bits - 1n)) x -= 1n << bits;
      } else {
        x = BigInt(v as number | string);
      }
      const u = x < 0n ? x + (1n << bits) : x;
      const h = `0x${u.toString(16).padStart(s.size * 2, "0")}`;
      return x < 0n ? `${h} (${x})` : h;
    }
    default: {
      let b = v as Uint8Array;
      if (f.def.type === "struct") {
        // tmp/vstruct: the script prints the format-3 bytes.
        const w = new ByteWriter(64);
        saveDocument(compileVmsd(f.def.vmsd!), w, v, false, s.name);
        b = w.finish();
      }
      let out = "";
      for (let i = 0; i < b.byteLength; i++) out += (i ? " " : "") + (b[i]! < 16 ? "0" : "") + b[i]!.toString(16);
      return out;
    }
  }
}

function toPlain(v: PyValue): unknown {
  if (v instanceof Map) {
    const o = safeObject();
    for (const [k, x] of v) o[k] = toPlain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

/** Python's json.dumps(v, indent=4, separators=(',', ': ')) with ensure_ascii. */
export function pyJson(v: PyValue, depth: number): string {
  if (typeof v === "string") return pyString(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  const pad = "\n" + "    ".repeat(depth + 1);
  const end = "\n" + "    ".repeat(depth);
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return "[" + v.map((x) => pad + pyJson(x, depth + 1)).join(",") + end + "]";
  }
  if (v.size === 0) return "{}";
  let s = "{";
  let first = true;
  for (const [k, x] of v) {
    s += (first ? "" : ",") + pad + pyString(k) + ": " + pyJson(x, depth + 1);
    first = false;
  }
  return s + end + "}";
}

const ESC: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f" };

export function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) out += s[i];
    else out += ESC[s[i]!] ?? `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return out + '"';
}
