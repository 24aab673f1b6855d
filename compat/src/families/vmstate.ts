/**
 * VMState device schemas in the matrix: every adjacent release pair n → n+1
 * of each sample device of @vmstream/vmstate. States come from
 * `arbitraryState` (@vmstream/testing), derived from the same description
 * value the interpreter runs; the static verdict is `schemaDiff` over the
 * `-dump-vmstate` documents of the two releases. Each run saves and loads in
 * format 3 (what QEMU writes) or 4 (explicit SUBSECTIONS_END), drawn with the
 * state: device compatibility must not depend on the stream format.
 *
 * - upgrade: release n saves at its version, release n+1 loads it; every value
 *   arrives (a field n+1 retired into VMSTATE_UNUSED arrives as its raw bytes).
 * - downgrade: release n+1 saves as release n would (at n's version_id, the way
 *   QEMU's machine-type compat migrates back), release n loads it: the state
 *   must arrive whole, or the save or load must refuse; dropping a field that
 *   holds data is silent loss.
 * - forward: release n loads what release n+1 writes at its own version: a
 *   typed refusal, unless every part sent is known to n (subsections not
 *   needed are not sent), in which case the state arrives whole.
 * - static-dynamic: schemaDiff in both directions equals what loading observed.
 */
import fc from "fast-check";
import { WireError } from "@vmstream/framing";
import * as vmstate from "@vmstream/vmstate";
import { MATRIX_PROPERTIES, arbitraryState, type VmsdLike } from "@vmstream/testing";
import type { AggregateProperty, AnyProperty, CellSpec } from "../cell.js";
import { describeError, sameValue } from "../codec-io.js";

type State = Record<string, unknown>;
type Vmsd = vmstate.Vmsd;

interface SampleDevice {
  name: string;
  versions: Readonly<Record<number, Vmsd>>;
}

type Format = 3 | 4;
const formats = fc.constantFrom<Format>(3, 4);

const show = (x: unknown): string => {
  const s = JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? `bytes[${[...v].join(",")}]` : v));
  return s.length > 240 ? `${s.slice(0, 240)}…` : s;
};

function api() {
  return {
    saveState: vmstate.saveState,
    loadState: vmstate.loadState,
    schemaDiff: vmstate.schemaDiff,
    dumpVmstateFile: vmstate.dumpVmstateFile,
  };
}

/** Each value once per (schema, version), so a state arbitrary is built from its description only once. */
const arbs = new WeakMap<Vmsd, Map<number, fc.Arbitrary<State>>>();
function stateArb(schema: Vmsd, version: number): fc.Arbitrary<State> {
  let m = arbs.get(schema);
  if (!m) arbs.set(schema, (m = new Map()));
  let a = m.get(version);
  if (!a) m.set(version, (a = arbitraryState(schema as unknown as VmsdLike, { version })));
  return a;
}

/** Keys of `v` that the destination description has no field or subsection for. */
function unknownKeys(v: State, dst: Vmsd): string[] {
  const known = new Set<string>([...dst.fields.map((f) => f.key ?? f.name), ...dst.subsections.map((s) => s.name)]);
  return Object.keys(v).filter((k) => !known.has(k));
}

/** A field of `src` whose slot in `dst` (same position) became VMSTATE_UNUSED of the same size: retired on purpose. */
function retired(src: Vmsd, dst: Vmsd, key: string): boolean {
  const i = src.fields.findIndex((f) => (f.key ?? f.name) === key);
  const d = dst.fields[i];
  return i >= 0 && d !== undefined && d.type === "unused_buffer";
}

/** Upgrade model: every key arrives with its value, except retired fields, which arrive as raw unused bytes. */
function checkUpgraded(v: State, loaded: State, src: Vmsd, dst: Vmsd): void {
  for (const [k, x] of Object.entries(v)) {
    if (k in loaded) {
      if (!sameValue(loaded[k], x)) throw new Error(`upgrade changed ${k}: ${show(x)} → ${show(loaded[k])}`);
    } else if (!retired(src, dst, k)) {
      throw new Error(`upgrade lost ${k} (${show(x)}), which ${dst.name}@${dst.version} does not retire`);
    }
  }
  for (const k of Object.keys(loaded)) {
    if (k in v) continue;
    const f = dst.fields.find((x) => (x.key ?? x.name) === k);
    if (f?.type !== "unused_buffer") throw new Error(`upgrade invented ${k} = ${show(loaded[k])}`);
  }
}

type LoadOutcome = { ok: true; state: State } | { ok: false; error: WireError };

function tryLoad(load: typeof vmstate.loadState, schema: Vmsd, bytes: Uint8Array, version: number, format: Format): LoadOutcome {
  try {
    return { ok: true, state: load(schema, bytes, { version, format }) };
  } catch (e) {
    if (e instanceof WireError) return { ok: false, error: e };
    throw new Error(`load threw a non-wire error: ${describeError(e)}`);
  }
}

const isUnused = (s: Vmsd, key: string): boolean => s.fields.some((f) => (f.key ?? f.name) === key && f.type === "unused_buffer");

/** Subsections of `v` (sent ones are present as keys) that `dst` does not declare. */
const unknownSubsections = (v: State, src: Vmsd, dst: Vmsd): string[] =>
  src.subsections.filter((s) => s.name in v && !dst.subsections.some((d) => d.name === s.name)).map((s) => s.name);

function deviceCells(d: SampleDevice, n: number, m: number): CellSpec[] {
  const family = `vmstate:${d.name}`;
  const from = String(n);
  const to = String(m);
  const a = d.versions[n]!;
  const b = d.versions[m]!;
  const cell = (property: (typeof MATRIX_PROPERTIES)[number], build: () => AnyProperty | AggregateProperty): CellSpec => ({ family, from, to, property, build });

  return [
    cell("upgrade", () => {
      const { saveState, loadState } = api();
      return fc.property(stateArb(a, a.version), formats, (v, format) => {
        const bytes = saveState(a, v, { version: a.version, format });
        const r = tryLoad(loadState, b, bytes, a.version, format);
        if (!r.ok) throw new Error(`release ${m} refused release ${n}'s stream: ${r.error.message}`);
        checkUpgraded(v, r.state, a, b);
      });
    }),
    cell("downgrade", () => {
      const { saveState, loadState } = api();
      return fc.property(stateArb(b, b.version), formats, (v, format) => {
        let bytes: Uint8Array;
        try {
          bytes = saveState(b, v, { version: a.version, format });
        } catch (e) {
          if (e instanceof WireError && e.code === "REFUSED") return; // refused by name (version window)
          throw new Error(`saving at version ${a.version} failed untyped: ${describeError(e)}`);
        }
        const r = tryLoad(loadState, a, bytes, a.version, format);
        if (!r.ok) {
          if (!r.error.message.includes(d.name)) throw new Error(`refusal does not name what is lost: ${r.error.message}`);
          return;
        }
        // VMSTATE_UNUSED bytes are padding, not state: they may arrive as anything.
        const lost = Object.keys(v).filter((k) => !isUnused(b, k) && !sameValue(r.state[k], v[k]));
        if (lost.length) throw new Error(`silent loss: saving release ${m}'s state as version_id ${a.version} for release ${n} drops ${lost.map((k) => `${k}=${show(v[k])}`).join(", ")}`);
      });
    }),
    cell("forward", () => {
      const { saveState, loadState } = api();
      return fc.property(stateArb(b, b.version), formats, (v, format) => {
        const bytes = saveState(b, v, { version: b.version, format });
        const r = tryLoad(loadState, a, bytes, b.version, format);
        const mustReject = b.version > a.version || b.version < a.minimumVersion || unknownSubsections(v, b, a).length > 0;
        if (mustReject) {
          if (r.ok) throw new Error(`release ${n} accepted release ${m}'s stream (version ${b.version}) ${show(v)}`);
          return;
        }
        if (!r.ok) throw new Error(`release ${n} refused a stream it can read (only known parts sent): ${r.error.message}`);
        const extra = unknownKeys(v, a);
        const lost = Object.keys(v).filter((k) => !extra.includes(k) && !sameValue(r.state[k], v[k]));
        if (lost.length) throw new Error(`release ${n} misread ${lost.join(", ")}`);
      });
    }),
    cell("static-dynamic", () => {
      const { saveState, loadState, schemaDiff, dumpVmstateFile } = api();
      const dump = (s: Vmsd) => dumpVmstateFile([{ name: d.name, schema: s }]);
      const errors = (src: Vmsd, dst: Vmsd) => schemaDiff(dump(src), dump(dst)).filter((f) => f.severity === "error");
      const upStatic = errors(a, b);
      const downStatic = errors(b, a);
      const seen = { upFail: null as string | null, downFail: null as string | null };
      const property = fc.property(stateArb(a, a.version), stateArb(b, b.version), formats, (x, y, format) => {
        const up = tryLoad(loadState, b, saveState(a, x, { version: a.version, format }), a.version, format);
        if (!up.ok) {
          seen.upFail ??= `${show(x)}: ${up.error.message}`;
          if (upStatic.length === 0) throw new Error(`schema-diff ${n}→${m} finds nothing, yet loading failed: ${up.error.message}`);
        }
        const down = tryLoad(loadState, a, saveState(b, y, { version: b.version, format }), b.version, format);
        if (!down.ok) {
          seen.downFail ??= `${show(y)}: ${down.error.message}`;
          if (downStatic.length === 0) throw new Error(`schema-diff ${m}→${n} finds nothing, yet loading failed: ${down.error.message}`);
        }
      });
      const after = (): string | null => {
        if (upStatic.length && !seen.upFail) return `schema-diff ${n}→${m} says incompatible (${upStatic.map((f) => f.message).join("; ")}) but every load succeeded`;
        if (downStatic.length && !seen.downFail) return `schema-diff ${m}→${n} says incompatible (${downStatic.map((f) => f.message).join("; ")}) but every load succeeded`;
        return null;
      };
      return { property, after };
    }),
  ];
}

export function vmstateCells(): CellSpec[] {
  const devices: readonly SampleDevice[] = vmstate.sampleDevices;
  const out: CellSpec[] = [];
  for (const d of devices) {
    const releases = Object.keys(d.versions)
      .map(Number)
      .sort((x, y) => x - y);
    for (let i = 0; i + 1 < releases.length; i++) out.push(...deviceCells(d, releases[i]!, releases[i + 1]!));
  }
  return out;
}
