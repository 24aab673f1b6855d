/**
 * Real QEMU releases in the matrix: for each adjacent release pair and
 * direction, every device both builds' `-dump-vmstate` describe is a cell.
 * A cell runs the VMState interpreter as a property: fast-check draws a state
 * from the source release's description of the device (and which field_exists
 * tests pass), saves it as the source writes it, loads it with the
 * destination's description at the version the stream names, and checks that
 * the outcome is exactly what wireDiff predicted:
 *
 * - refused exactly when a predicted condition holds (always, for "broken");
 * - when it loads, the destination holds the source's bytes (saving the loaded
 *   state again gives the same stream: nothing misread);
 * - values dropped into VMSTATE_UNUSED only where the checker said so, and
 *   seen at least once where it did.
 */
import fc from "fast-check";
import { ByteWriter, WireError } from "@vmstream/framing";
import {
  type Condition,
  type DeviceVerdict,
  type DumpWorld,
  type State,
  type Vmsd,
  type WireDiff,
  dumpConditions,
  loadState,
  saveState,
  vmsdFromDump,
  wireDiff,
} from "@vmstream/vmstate";
import { readDumps, type Release } from "./dumps.js";

export const RELEASE_PAIRS: ReadonlyArray<readonly [Release, Release]> = [
  ["5.2", "7.2"],
  ["7.2", "10.0"],
  ["7.2", "5.2"],
  ["10.0", "7.2"],
];

export interface ReleaseCell {
  from: Release;
  to: Release;
  device: string;
  predicted: DeviceVerdict["verdict"];
  drops: boolean;
  ok: boolean;
  runs: number;
  loaded: number;
  refused: number;
  dropped: number;
  /** Runs the checker called out of place that loaded anyway (the byte count came out right). */
  misread: number;
  reason: string;
}

/** Opaque bytes of a given length, drawn from a seed (one draw per field keeps big buffers cheap). */
function bytes(n: number): fc.Arbitrary<Uint8Array> {
  if (n === 0) return fc.constant(new Uint8Array(0));
  return fc.integer({ min: 1, max: 0x7fff_ffff }).map((seed) => {
    const out = new Uint8Array(n);
    // xorshift32 a word at a time over the first 4 KiB (whole words; the tail
    // and big buffers repeat it): as distinct as a test needs, at memcpy speed.
    const m = Math.min(n, 4096);
    const words = new Uint32Array(out.buffer, 0, m >>> 2);
    let x = seed;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    for (let i = words.length << 2; i < m; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    for (let have = m; have < n; have *= 2) out.copyWithin(have, 0, Math.min(have, n - have));
    return out;
  });
}

const arbs = new WeakMap<Vmsd, fc.Arbitrary<State>>();

/** States of a dump model: every field drawn (the save decides presence), each subsection sent or not. */
export function modelState(v: Vmsd): fc.Arbitrary<State> {
  const hit = arbs.get(v);
  if (hit) return hit;
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of v.fields) {
    const key = f.key ?? f.name;
    let a: fc.Arbitrary<unknown>;
    if (f.type === "unused_buffer") continue; // QEMU sends zeros
    else if (f.type === "uint32_equal") a = fc.constant(f.expect);
    else if (f.type === "struct") {
      const one = modelState(f.vmsd!);
      a = f.num !== undefined ? fc.array(one, { minLength: f.num, maxLength: f.num }) : one;
    } else a = bytes(f.size ?? 0);
    rec[key] = a;
  }
  for (const s of v.subsections) rec[s.name] = fc.option(modelState(s), { nil: undefined, freq: 2 });
  const out = fc.record(rec).map((st) => {
    for (const s of v.subsections) if (st[s.name] === undefined) delete st[s.name];
    return st as State;
  });
  arbs.set(v, out);
  return out;
}

/** Whether a subsection's value is anywhere in the state tree (it is sent when present). */
function sent(v: unknown, name: string, depth = 0): boolean {
  if (depth > 64 || v === null || typeof v !== "object" || v instanceof Uint8Array) return false;
  if (Array.isArray(v)) return v.some((x) => sent(x, name, depth + 1));
  const o = v as State;
  if (o[name] !== undefined) return true;
  return Object.values(o).some((x) => sent(x, name, depth + 1));
}

export function holds(c: Condition, state: State, world: DumpWorld): boolean {
  return c.every((a) => ("subsection" in a ? sent(state, a.subsection) : "field" in a ? world.conds.has(a.field) : world.conds.has(a.xor[0]) !== world.conds.has(a.xor[1])));
}

/** Non-zero bytes the destination holds in a VMSTATE_UNUSED field: values it discards. */
function droppedIn(v: Vmsd, st: State | undefined, depth = 0): boolean {
  if (!st || depth > 64) return false;
  for (const f of v.fields) {
    const x = st[f.key ?? f.name];
    if (f.type === "unused_buffer" && x instanceof Uint8Array && x.some((b) => b !== 0)) return true;
    if (f.type === "struct") {
      const list = Array.isArray(x) ? (x as State[]) : [x as State];
      if (list.some((e) => droppedIn(f.vmsd!, e, depth + 1))) return true;
    }
  }
  return v.subsections.some((s) => droppedIn(s, st[s.name] as State | undefined, depth + 1));
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

export interface CellParams {
  seed: number;
  numRuns: number;
}

/** One device cell of one release pair. */
export function runDeviceCell(from: Release, to: Release, verdict: DeviceVerdict, diff: WireDiff, src: Record<string, unknown>, dst: Record<string, unknown>, p: CellParams): ReleaseCell {
  const dev = verdict.device;
  const base = { from, to, device: dev, predicted: verdict.verdict, drops: verdict.drops };
  const world: { conds: ReadonlySet<string> } = { conds: new Set() };
  const ss = src[dev] as Parameters<typeof vmsdFromDump>[0];
  const ds = dst[dev] as Parameters<typeof vmsdFromDump>[0];
  if (!ss.Description || !ds.Description) {
    // An old-style section (register_savevm_live): the dump shows no fields to draw from.
    const ok = verdict.verdict === (ss.Description || ds.Description ? "broken" : "compatible");
    return { ...base, ok, runs: 0, loaded: 0, refused: 0, dropped: 0, misread: 0, reason: "no VMState description: decided by versions only" };
  }
  const ms = vmsdFromDump(ss, diff.srcNums, world);
  const md = vmsdFromDump(ds, diff.dstNums, world);
  const conds = [...new Set([...dumpConditions(ss), ...dumpConditions(ds)])].sort();
  const stats = { loaded: 0, refused: 0, dropped: 0, misread: 0 };
  const version = ms.version;
  // One writer for the cell's saves: saveState copies out what it wrote, so the buffer is reused.
  const w = new ByteWriter(1 << 12);
  const save = (v: Vmsd, st: State): Uint8Array => saveState(v, st, { version, writer: w.reset() });
  const prop = fc.property(modelState(ms), fc.subarray(conds), (state, on) => {
    world.conds = new Set(on);
    const bytesOut = save(ms, state);
    const expectRefused = verdict.refusedWhen.some((c) => holds(c, state, world));
    const desync = !expectRefused && verdict.desyncWhen.some((c) => holds(c, state, world));
    let loaded: State | undefined;
    let err: WireError | undefined;
    try {
      loaded = loadState(md, bytesOut, { version });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      err = e;
    }
    if (desync) {
      // Out of place: refused, or (the byte count coming out right) loaded with values moved.
      if (err) stats.refused++;
      else stats.misread++;
      return;
    }
    if (err) {
      stats.refused++;
      if (!expectRefused) throw new Error(`predicted to load, but the destination refused: ${err.message}`);
      return;
    }
    stats.loaded++;
    if (expectRefused) throw new Error(`predicted refused (${verdict.findings.filter((f) => f.effect === "refused").map((f) => f.reason)[0]}), but it loaded`);
    const again = save(md, loaded!);
    if (!sameBytes(again, bytesOut)) throw new Error("loaded, but the destination misread the stream (saving what it holds gives other bytes)");
    if (droppedIn(md, loaded)) {
      stats.dropped++;
      if (!verdict.drops) throw new Error("the destination dropped values into VMSTATE_UNUSED that the checker did not predict");
    }
  });
  const r = fc.check(prop, { seed: p.seed, numRuns: p.numRuns, endOnFailure: true });
  if (r.failed) {
    const msg = r.errorInstance instanceof Error ? r.errorInstance.message : String(r.errorInstance);
    return { ...base, ok: false, runs: r.numRuns, ...stats, reason: `${msg.split("\n")[0]} [replay: seed ${p.seed}, path "${r.counterexamplePath}"]` };
  }
  if (verdict.desyncWhen.some((c) => c.length === 0) && stats.refused === 0 && !verdict.refusedWhen.length) {
    return { ...base, ok: false, runs: r.numRuns, ...stats, reason: "predicted out of place in every run, yet every run loaded" };
  }
  if (verdict.drops && stats.loaded > 0 && stats.dropped === 0) {
    return { ...base, ok: false, runs: r.numRuns, ...stats, reason: "predicted dropped values, none seen in any run" };
  }
  return { ...base, ok: true, runs: r.numRuns, ...stats, reason: "" };
}

export interface PairRun {
  from: Release;
  to: Release;
  diff: WireDiff;
  cells: ReleaseCell[];
}

/** Every device cell of one release pair and direction. */
export function runReleasePair(from: Release, to: Release, p: CellParams, only?: (dev: string) => boolean): PairRun {
  const { [from]: src, [to]: dst } = readDumps();
  const diff = wireDiff(src, dst);
  const cells: ReleaseCell[] = [];
  for (const v of diff.devices) {
    if (only && !only(v.device)) continue;
    cells.push(runDeviceCell(from, to, v, diff, src!, dst!, p));
  }
  return { from, to, diff, cells };
}
