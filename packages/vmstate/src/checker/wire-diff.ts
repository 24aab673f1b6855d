/**
 * schema-diff's default mode: can a stream that SRC's build writes load on
 * DST's build, judged by the bytes on the wire rather than by field names.
 *
 * Both dumps are flattened into what vmstate_save_state writes (layout.ts)
 * and compared byte by byte: fields with the same name anchor the walk, the
 * bytes between two anchors must add up on both sides, a field's size and
 * element count must agree. A name that changed over the same bytes is
 * information; bytes the destination reads into VMSTATE_UNUSED are dropped
 * values; bytes that do not add up make QEMU read the rest of the section out
 * of place, and it refuses it. Versions are checked where QEMU checks them
 * (the section's and each subsection's, never a nested struct's, which is not
 * on the wire), subsections by name as vmstate_subsection_load finds them. What
 * the dump cannot decide (a `needed()` callback, a `field_exists` test) becomes
 * a condition on the finding: "refused when subsection X is sent".
 *
 * A device only one build has is not a layout problem: it is reported as
 * "only in source" / "only in destination". QEMU refuses a stream holding a
 * device the destination lacks ("Unknown savevm section or instance"), which
 * preflight decides for an actual stream.
 */
import { checkDump } from "./diff.js";
import type { DumpDescription } from "./dump.js";
import { type Leaf, NumTable, type Subs, type Token, TooLarge, dumpHasNum, flatten, isHard, numIndex } from "./layout.js";

export type WireSeverity = "error" | "warning" | "info";
export type WireKind = "layout" | "only-in-source" | "only-in-dest" | "machine";
export type WireCode =
  | "only-in-source"
  | "only-in-dest"
  | "machine-type"
  | "version-too-new"
  | "version-too-old"
  | "description-missing"
  | "size-mismatch"
  | "layout-mismatch"
  | "source-extra"
  | "dest-extra"
  | "condition-mismatch"
  | "opaque-mismatch"
  | "subsection-missing"
  | "renamed"
  | "retired"
  | "revived"
  | "resplit"
  | "too-large";

/**
 * What a finding does to a load. refused: QEMU fails it (a version, a
 * subsection it cannot find). desync: the destination reads the rest of the
 * section out of place: refused at a later check or the section footer, or, if
 * the byte count happens to come out right, loaded with values in the wrong
 * fields. dropped: loads, values discarded. reinterpreted: loads, bytes land in
 * fields of another shape. none: a note.
 */
export type WireEffect = "refused" | "desync" | "dropped" | "reinterpreted" | "none";

/** One fact the dump cannot decide: a subsection is sent, a field_exists test passes, exactly one of two passes. */
export type Atom = { subsection: string } | { field: string } | { xor: [string, string] };
/** All of these hold. An empty condition always holds. */
export type Condition = Atom[];

export interface WireFinding {
  /** error: every stream of this device is refused; warning: refused under `when`, or values change; info: loads. */
  severity: WireSeverity;
  kind: WireKind;
  /** The `-dump-vmstate` key (QOM type name). */
  device: string;
  /** Fields from the section's description down, " > " between them; "" for the section. */
  path: string;
  /** Why, in QEMU's terms. */
  reason: string;
  code: WireCode;
  effect: WireEffect;
  /** Only under this condition (conjunction). Absent: always. */
  when?: Condition;
}

export interface DeviceVerdict {
  device: string;
  /** compatible: loads whatever the state; conditional: refused exactly under `refusedWhen`; broken: always refused. */
  verdict: "compatible" | "conditional" | "broken";
  /** Refused when any of these conditions holds (each a conjunction). */
  refusedWhen: Condition[];
  /** Read out of place when any of these holds (refused, or loaded with misplaced values), unless refusedWhen holds. */
  desyncWhen: Condition[];
  /** Loads, but the destination discards some of the source's values (VMSTATE_UNUSED). */
  drops: boolean;
  findings: WireFinding[];
}

export interface WireDiff {
  /** Every finding: layout findings of shared devices, then devices only one side has, then the machine. */
  findings: WireFinding[];
  /** Devices both dumps have, in the source's order. */
  devices: DeviceVerdict[];
  onlyInSource: string[];
  onlyInDest: string[];
  /** Element counts as resolved for each side (dumps before QEMU 8 print no "num"); vmsdFromDump reads them. */
  srcNums: NumTable;
  dstNums: NumTable;
}

const names = (ls: readonly Leaf[]): string => ls.map((l) => l.name).join(", ");
const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? "" : "s"}`;

export function atomText(a: Atom): string {
  if ("subsection" in a) return `subsection "${a.subsection}" is sent`;
  if ("field" in a) return `field_exists(${a.field}) is true`;
  return `exactly one of field_exists(${a.xor[0]}), field_exists(${a.xor[1]}) is true`;
}

export const conditionText = (c: Condition): string => c.map(atomText).join(" and ");

class DeviceDiff {
  readonly findings: WireFinding[] = [];
  constructor(
    readonly device: string,
    readonly sn: NumTable,
    readonly dn: NumTable,
    /** The source side is what a stream sent (its vmdesc): no conditions, only the subsections sent. */
    readonly exactSource = false,
  ) {}

  /**
   * Against an exact source, a destination field_exists test is taken to pass
   * where the source sent a field of that name and size, and to fail elsewhere.
   */
  resolveConds(S: Token[], D: Token[], when: Condition): Token[] {
    // vmdesc spells the k-th of several same-named fields "name[k]".
    const avail = new Map<string, number>();
    for (const t of S) if (t.t === "leaf") avail.set(`${t.name}|${t.elem * this.count(t, "s")}`, (avail.get(`${t.name}|${t.elem * this.count(t, "s")}`) ?? 0) + 1);
    const take = (t: Leaf, bytes: number): boolean => {
      for (const key of [`${t.name}[${t.k}]|${bytes}`, `${t.name}|${bytes}`]) {
        const n = avail.get(key) ?? 0;
        if (n > 0) {
          avail.set(key, n - 1);
          return true;
        }
      }
      return false;
    };
    // A leaf the dump cannot size (virtio, msix state…) has the size the source's vmdesc gives it.
    const sized = new Map<string, number>();
    for (const t of S) if (t.t === "leaf" && !sized.has(t.name)) sized.set(t.name, t.elem * this.count(t, "s"));
    const out: Token[] = [];
    for (let t of D) {
      if (t.t === "leaf" && t.elem === 0) {
        const size = sized.get(`${t.name}[${t.k}]`) ?? sized.get(t.name);
        if (size !== undefined) t = { ...t, elem: size / this.count(t, "d") };
      }
      if (t.t !== "leaf" || t.cond === null) {
        out.push(t);
        continue;
      }
      if (take(t, t.elem * this.count(t, "d"))) out.push({ ...t, cond: null });
      else this.add("dest-extra", "none", t.path, `the source did not send "${t.name}"; taken as dest's field_exists test being false (as it is when source and dest run the same configuration)`, when);
    }
    return out;
  }

  add(code: WireCode, effect: WireEffect, path: string, reason: string, when: Condition): void {
    const severity: WireSeverity = effect === "refused" || effect === "desync" ? (when.length ? "warning" : "error") : effect === "none" || effect === "dropped" ? "info" : "warning";
    const f: WireFinding = { severity, kind: "layout", device: this.device, path, reason, code, effect };
    if (when.length) f.when = when;
    this.findings.push(f);
  }

  count(l: Leaf, side: "s" | "d"): number {
    return (side === "s" ? this.sn : this.dn).count(l.field, l.owner, l.k);
  }

  bytes(ls: readonly Leaf[], side: "s" | "d"): number {
    let n = 0;
    for (const l of ls) n += l.elem * this.count(l, side);
    return n;
  }

  /** A description on each side, each flattened at the version it runs at. False once the layouts part ways. */
  description(s: DumpDescription, sv: number, d: DumpDescription, dv: number, path: string, when: Condition): boolean {
    let S: Token[];
    let D: Token[];
    try {
      S = flatten(s, sv, this.sn, path);
      D = flatten(d, dv, this.dn, path);
      if (this.exactSource) D = this.resolveConds(S, D, when);
    } catch (e) {
      if (!(e instanceof TooLarge)) throw e;
      this.add("too-large", "none", path, `not compared: ${e.message}`, when);
      return true;
    }
    return this.tokens(S, D, when);
  }

  tokens(S0: Token[], D0: Token[], when: Condition): boolean {
    // Subsections are zero bytes where the other side has none for that description: decide
    // them here and drop them, so they do not cut one side's fields into runs the other lacks.
    const sPaths = new Set(S0.filter((t) => t.t === "subs").map((t) => t.path));
    const dPaths = new Set(D0.filter((t) => t.t === "subs").map((t) => t.path));
    const S = S0.filter((t) => {
      if (t.t !== "subs" || dPaths.has(t.path)) return true;
      this.subsections(t, null, when);
      return false;
    });
    const D = D0.filter((t) => t.t !== "subs" || sPaths.has(t.path));
    let i = 0;
    let j = 0;
    for (;;) {
      let si = i;
      while (si < S.length && !isHard(S[si]!)) si++;
      let dj = j;
      while (dj < D.length && !isHard(D[dj]!)) dj++;
      if (!this.run(S.slice(i, si) as Leaf[], D.slice(j, dj) as Leaf[], when)) return false;
      i = si;
      j = dj;
      const a = S[i];
      const b = D[j];
      if (!a && !b) return true;
      if (a?.t === "subs" && b?.t === "subs") {
        this.subsections(a, b, when);
        i++;
        j++;
        continue;
      }
      // The other side has a field first when its own subsections of the same description come later.
      const later = (T: Token[], from: number, path: string) => T.slice(from).some((t) => t.t === "subs" && t.path === path);
      if (a?.t === "subs") {
        if (b && later(D, j, a.path)) {
          if (!this.hard(undefined, b as Leaf, when)) return false;
          j++;
        } else {
          this.subsections(a, null, when);
          i++;
        }
        continue;
      }
      if (b?.t === "subs") {
        if (a && later(S, i, b.path)) {
          if (!this.hard(a as Leaf, undefined, when)) return false;
          i++;
        } else j++; // dest looks for subsections here; the source sends none: nothing to read
        continue;
      }
      if (!this.hard(a as Leaf | undefined, b as Leaf | undefined, when)) return false;
      if (a && b) {
        const ca = (a as Leaf).cond;
        const cb = (b as Leaf).cond;
        // A one-sided condition consumes only its own side.
        if (ca !== null && cb === null) i++;
        else if (cb !== null && ca === null) j++;
        else {
          i++;
          j++;
        }
      } else if (a) i++;
      else j++;
    }
  }

  /** A conditional or unsizable leaf on either side (or the end of one side). */
  hard(a: Leaf | undefined, b: Leaf | undefined, when: Condition): boolean {
    if (a && b && a.cond !== null && b.cond !== null) {
      const sa = a.elem * this.count(a, "s");
      const sb = b.elem * this.count(b, "d");
      if (a.cond === b.cond) {
        if (sa !== sb || (a.elem === 0 && a.name !== b.name)) {
          this.add("size-mismatch", "desync", a.path, `field "${a.name}" is ${sa} bytes in source, "${b.name}" ${sb} in dest (when its field_exists test passes)`, [...when, { field: a.cond }]);
        }
        return true;
      }
      if (sa === sb && a.elem !== 0) {
        this.add("condition-mismatch", "desync", a.path, `source sends "${a.name}" under field_exists ${a.cond}, dest reads "${b.name}" under ${b.cond}: when only one test passes the section is misread`, [...when, { xor: [a.cond, b.cond] }]);
      } else {
        this.add("condition-mismatch", "desync", a.path, `source sends "${a.name}" (${sa} bytes) when ${a.cond} passes, dest reads "${b.name}" (${sb} bytes) when ${b.cond} passes`, [...when, { field: a.cond }]);
        this.add("condition-mismatch", "desync", b.path, `dest reads "${b.name}" (${sb} bytes) when ${b.cond} passes where the source sends "${a.name}"`, [...when, { field: b.cond }]);
      }
      return true;
    }
    if (a && a.cond !== null) {
      this.add("source-extra", "desync", a.path, `source sends "${a.name}" when its field_exists test passes; dest reads nothing there, so the rest of the section is misread`, [...when, { field: a.cond }]);
      return true;
    }
    if (b && b.cond !== null) {
      this.add(
        "dest-extra",
        "refused",
        b.path,
        `dest reads "${b.name}" when its field_exists test passes (often a machine-type compat property); the source does not send it`,
        [...when, { field: b.cond }],
      );
      return true;
    }
    if (a && b) {
      // Sized by a VMStateInfo's own code (virtio, a VBUFFER…): the dump shows only that one is here.
      if (a.name !== b.name) this.add("renamed", "none", a.path, `source's "${a.name}" is dest's "${b.name}": both written by code whose size the dump does not show, assumed the same`, when);
      return true;
    }
    if (a) {
      this.add("source-extra", "desync", a.path, `source sends "${a.name}" and more; dest has read all its fields (QEMU: "Missing section footer")`, when);
      return false;
    }
    this.add("dest-extra", "desync", b!.path, `dest reads "${b!.name}", which the source does not send`, when);
    return false;
  }

  /** A run of plain leaves on each side: anchor on equal names, then the bytes between anchors must add up. */
  run(S: Leaf[], D: Leaf[], when: Condition): boolean {
    if (S.length === 0 && D.length === 0) return true;
    const anchors = lcs(S, D);
    let pi = 0;
    let pj = 0;
    for (const [ai, aj] of [...anchors, [S.length, D.length] as const]) {
      if (!this.gap(S.slice(pi, ai), D.slice(pj, aj), S[pi - 1] ?? S[ai] ?? D[aj], when)) return false;
      if (ai < S.length) {
        const a = S[ai]!;
        const b = D[aj]!;
        const na = this.count(a, "s");
        const nb = this.count(b, "d");
        if (a.elem !== b.elem || na !== nb) {
          const shape = (n: number, e: number) => (n === 1 ? `${e} bytes` : `${n} × ${e} bytes`);
          this.add("size-mismatch", "desync", a.path, `field "${a.name}" is ${shape(na, a.elem)} in source, ${shape(nb, b.elem)} in dest; the rest of the section is read out of place`, when);
          return false;
        }
      }
      pi = ai + 1;
      pj = aj + 1;
    }
    return true;
  }

  gap(sg: Leaf[], dg: Leaf[], near: Leaf | undefined, when: Condition): boolean {
    if (sg.length === 0 && dg.length === 0) return true;
    this.solve(sg, dg, this.sn, "s", "d");
    this.solve(dg, sg, this.dn, "d", "s");
    const sb = this.bytes(sg, "s");
    const db = this.bytes(dg, "d");
    const path = (sg[0] ?? dg[0] ?? near)!.path;
    const list = (ls: Leaf[]) => (ls.length ? ls.map((l) => `"${l.name}"`).join(", ") : "nothing");
    if (sb === 0 && this.exactSource && dg.length > 0 && dg.every((l) => l.guess === dg[0]!.guess && l.guess !== undefined)) {
      // A struct array the dump gives no count for, which the source's vmdesc does not list: it sent no elements.
      this.add("renamed", "none", dg[0]!.guess!, `the source sent no elements of this array (a VARRAY of 0)`, when);
      return true;
    }
    if (sb !== db) {
      this.add("layout-mismatch", "desync", path, `source sends ${plural(sb, "byte")} here (${list(sg)}), dest reads ${plural(db, "byte")} (${list(dg)}); every later byte of the section is read out of place`, when);
      return false;
    }
    const sNamed = sg.filter((l) => !l.unused);
    const dNamed = dg.filter((l) => !l.unused);
    if (sNamed.length && !dNamed.length) {
      this.add("retired", "dropped", path, `dest reads ${names(sNamed)} (${plural(sb, "byte")}) as VMSTATE_UNUSED and discards them: the source's values are dropped`, when);
    } else if (!sNamed.length && dNamed.length) {
      this.add("revived", "reinterpreted", path, `dest fills ${names(dNamed)} from ${plural(sb, "byte")} the source sends as VMSTATE_UNUSED (zeros)`, when);
    } else if (sNamed.length && dNamed.length) {
      const same = sg.length === dg.length && sg.every((l, i) => l.elem * this.count(l, "s") === dg[i]!.elem * this.count(dg[i]!, "d"));
      if (same) {
        sg.forEach((l, i) => {
          const r = dg[i]!;
          if (l.name !== r.name) this.add("renamed", "none", l.path, `source's "${l.name}" is dest's "${r.name}": the same ${plural(l.elem * this.count(l, "s"), "byte")} in the same place on the wire`, when);
        });
      } else {
        this.add("resplit", "reinterpreted", path, `source's ${list(sg)} and dest's ${list(dg)} cover the same ${plural(sb, "byte")} with different boundaries: loads, values reinterpreted`, when);
      }
    }
    return true;
  }

  /** A dump without "num" leaves one array length open: take it from the bytes the other side has here. */
  solve(mine: Leaf[], theirs: Leaf[], nums: NumTable, me: "s" | "d", them: "s" | "d"): void {
    const open = mine.filter((l) => nums.open(l.field, l.owner, l.k));
    if (open.length !== 1 || theirs.some((l) => (them === "s" ? this.sn : this.dn).open(l.field, l.owner, l.k))) return;
    const o = open[0]!;
    const rest = this.bytes(theirs, them) - this.bytes(mine.filter((l) => l !== o), me);
    if (o.elem > 0 && rest > 0 && rest % o.elem === 0) nums.set(o.field, rest / o.elem);
  }

  subsections(s: Subs, d: Subs | null, when: Condition): void {
    for (const sub of s.desc.Subsections ?? []) {
      const w: Condition = [...when, { subsection: sub.name }];
      const path = s.path ? `${s.path} > ${sub.name}` : sub.name;
      const m = d?.desc.Subsections?.find((x) => x.name === sub.name);
      if (!m) {
        this.add("subsection-missing", "refused", path, `dest has no subsection "${sub.name}": when the source sends it (its needed() is true) the load fails (vmstate_subsection_load: ENOENT)`, w);
        continue;
      }
      if (sub.version_id > m.version_id) {
        this.add("version-too-new", "refused", path, `subsection "${sub.name}" version ${sub.version_id} is newer than dest's ${m.version_id}`, w);
      } else if (sub.version_id < m.minimum_version_id) {
        this.add("version-too-old", "refused", path, `subsection "${sub.name}" version ${sub.version_id} is older than dest's minimum_version_id ${m.minimum_version_id}`, w);
      } else {
        // A subsection loads at the version the stream names, on both sides.
        this.description(sub, sub.version_id, m, sub.version_id, path, w);
      }
    }
  }
}

/** Longest common subsequence of field names (VMSTATE_UNUSED never anchors); greedy beyond a size bound. */
function lcs(S: readonly Leaf[], D: readonly Leaf[]): Array<[number, number]> {
  const n = S.length;
  const m = D.length;
  if (n === m && S.every((l, i) => l.name === D[i]!.name)) return S.flatMap((l, i) => (l.unused ? [] : [[i, i] as [number, number]]));
  const eq = (i: number, j: number) => !S[i]!.unused && S[i]!.name === D[j]!.name;
  if (n * m > 4_000_000) {
    const out: Array<[number, number]> = [];
    let j = 0;
    for (let i = 0; i < n && j < m; i++) {
      let k = j;
      while (k < m && !eq(i, k)) k++;
      if (k < m) {
        out.push([i, k]);
        j = k + 1;
      }
    }
    return out;
  }
  const w = m + 1;
  const t = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] = eq(i, j) ? t[(i + 1) * w + j + 1]! + 1 : Math.max(t[(i + 1) * w + j]!, t[i * w + j + 1]!);
    }
  }
  const out: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (eq(i, j) && t[i * w + j] === t[(i + 1) * w + j + 1]! + 1) {
      out.push([i, j]);
      i++;
      j++;
    } else if (t[(i + 1) * w + j]! >= t[i * w + j + 1]!) i++;
    else j++;
  }
  return out;
}

type Obj = Record<string, unknown>;
export type Section = { version_id?: number; minimum_version_id?: number; Description?: DumpDescription };

function verdictOf(device: string, findings: WireFinding[]): DeviceVerdict {
  const whenOf = (e: WireEffect) => findings.filter((f) => f.effect === e).map((f) => f.when ?? []);
  const refusedWhen = whenOf("refused");
  const desyncWhen = whenOf("desync");
  const always = [...refusedWhen, ...desyncWhen].some((c) => c.length === 0);
  return {
    device,
    verdict: always ? "broken" : refusedWhen.length + desyncWhen.length ? "conditional" : "compatible",
    refusedWhen,
    desyncWhen,
    drops: findings.some((f) => f.effect === "dropped"),
    findings,
  };
}

/** Compare one device both dumps have (top-level numbers first, as qemu_loadvm_section_start_full does). */
export function compareSections(dev: string, s: Section, d: Section, sn: NumTable, dn: NumTable, exactSource = false): WireFinding[] {
  const dd = new DeviceDiff(dev, sn, dn, exactSource);
  const sv = s.version_id ?? 0;
  const dv = d.version_id ?? 0;
  const dmin = d.minimum_version_id ?? 0;
  if (sv > dv) {
    dd.add("version-too-new", "refused", "", `savevm: unsupported version ${sv} for '${dev}' v${dv}`, []);
  } else if (sv < dmin) {
    dd.add("version-too-old", "refused", "", `incoming version_id ${sv} is older than dest's minimum_version_id ${dmin}`, []);
  } else if (!s.Description || !d.Description) {
    if (s.Description || d.Description) {
      dd.add("description-missing", "refused", "", `${s.Description ? "dest" : "source"} has no VMState description for this device (an old-style save handler): its bytes cannot be compared`, []);
    }
  } else if (!exactSource && sn.hasNum === dn.hasNum && JSON.stringify(s.Description) === JSON.stringify(d.Description)) {
    // The same description in both builds: the same bytes (the common case; saves walking big arrays).
  } else {
    dd.description(s.Description, sv, d.Description, sv, "", []);
  }
  return dd.findings;
}

/**
 * Compare two `-dump-vmstate` documents by wire layout: findings for SRC's
 * streams loading on DST, and a verdict per device both have.
 */
export function wireDiff(srcDump: unknown, dstDump: unknown): WireDiff {
  const src = checkDump(srcDump, "source");
  const dst = checkDump(dstDump, "dest");
  const srcNums = new NumTable(dumpHasNum(src), dumpHasNum(dst) ? numIndex(dst) : null);
  const dstNums = new NumTable(dumpHasNum(dst), dumpHasNum(src) ? numIndex(src) : null);
  const devices: DeviceVerdict[] = [];
  const onlyInSource: string[] = [];
  const onlyInDest: string[] = [];
  const tail: WireFinding[] = [];
  for (const dev of Object.keys(src)) {
    if (dev === "vmschkmachine") continue;
    if (!(dev in dst)) {
      onlyInSource.push(dev);
      tail.push({
        severity: "warning",
        kind: "only-in-source",
        device: dev,
        path: "",
        code: "only-in-source",
        effect: "refused",
        reason: `only in source: dest's build has no "${dev}"; a stream holding one is refused ("Unknown savevm section or instance")`,
      });
      continue;
    }
    devices.push(verdictOf(dev, compareSections(dev, src[dev] as Section, dst[dev] as Section, srcNums, dstNums)));
  }
  for (const dev of Object.keys(dst)) {
    if (dev === "vmschkmachine" || dev in src) continue;
    onlyInDest.push(dev);
    tail.push({ severity: "info", kind: "only-in-dest", device: dev, path: "", code: "only-in-dest", effect: "none", reason: `only in destination: source's build has no "${dev}"; no stream from it holds one` });
  }
  const sm = (src.vmschkmachine as Obj | undefined)?.Name;
  const dm = (dst.vmschkmachine as Obj | undefined)?.Name;
  if (sm !== dm) {
    tail.push({
      severity: "info",
      kind: "machine",
      device: "vmschkmachine",
      path: "",
      code: "machine-type",
      effect: "none",
      reason: `dumps of different machine types ("${String(sm)}", "${String(dm)}"); a stream is refused unless the destination runs its machine type ("Machine type received is … and local is …")`,
    });
  }
  return { findings: [...devices.flatMap((d) => d.findings), ...tail], devices, onlyInSource, onlyInDest, srcNums, dstNums };
}

/** `severity: device path: reason [when …]` */
export function formatWireFinding(f: WireFinding): string {
  return `${f.severity}: ${f.device}${f.path ? ` ${f.path}` : ""}: ${f.reason}${f.when ? ` [${f.effect === "refused" || f.effect === "desync" ? "refused only" : "only"} when ${conditionText(f.when)}]` : ""}`;
}

export function wireFindingJson(f: WireFinding): Record<string, unknown> {
  const o: Record<string, unknown> = { severity: f.severity, kind: f.kind, device: f.device, path: f.path, reason: f.reason, code: f.code, effect: f.effect };
  if (f.when) o.when = f.when;
  return o;
}

/** Exit status of the default mode: 1 when a device both builds have is refused whatever its state. */
export function wireDiffExitCode(d: WireDiff): 0 | 1 {
  return d.devices.some((v) => v.verdict === "broken") ? 1 : 0;
}
