/**
 * schema-diff: can a stream saved by SRC load on DST? The rules of QEMU's
 * scripts/vmstate-static-checker.py (v7.2) over two `-dump-vmstate` documents,
 * with its known bugs fixed (docs/spec/vmstate.md lists each difference):
 * every problem counts, dest-only trailing fields are reported, field
 * presence is judged at the version the source actually writes, and no
 * message is printed half-way.
 */
import { MAX_DEPTH, MalformedError } from "@vmstream/framing";
import type { DumpDescription, DumpField } from "./dump.js";

export type FindingCode =
  | "machine-type"
  | "section-missing"
  | "entry-missing"
  | "version-too-new"
  | "version-too-old"
  | "description-name"
  | "field-name"
  | "dest-fields-exhausted"
  | "dest-extra-field"
  | "field-presence"
  | "field-exists"
  | "unused-size"
  | "size-mismatch"
  | "description-missing"
  | "subsection-missing";

export interface Finding {
  /** "error": SRC's stream would not load on DST. "warning": cannot tell statically. */
  severity: "error" | "warning";
  /** The top-level `-dump-vmstate` key (QOM type name). */
  section: string;
  /** Descriptions and fields from the section down, joined by " > "; "" at section level. */
  path: string;
  message: string;
  code: FindingCode;
}

/** One line per finding, naming the section. */
export function formatFinding(f: Finding): string {
  return `${f.severity}: section "${f.section}"${f.path ? ` ${f.path}` : ""}: ${f.message}`;
}

/** The JSON shape of a finding (`schema-diff --json`). */
export function findingJson(f: Finding): { severity: string; section: string; path: string; message: string; code: string } {
  return { severity: f.severity, section: f.section, path: f.path, message: f.message, code: f.code };
}

/** Exit status of `schema-diff`: 0 compatible, 1 incompatible (warnings alone are compatible). */
export function schemaDiffExitCode(findings: readonly Finding[]): 0 | 1 {
  return findings.some((f) => f.severity === "error") ? 1 : 0;
}

/** Field renames QEMU's checker accepts, per section or description name (from the 7.2 script). */
const CHANGED_NAMES: Record<string, readonly string[]> = {
  apic: ["timer", "timer_expiry"],
  e1000: ["dev", "parent_obj"],
  ehci: ["dev", "pcidev"],
  I440FX: ["dev", "parent_obj"],
  ich9_ahci: ["card", "parent_obj"],
  "ich9-ahci": ["ahci", "ich9_ahci"],
  ioh3420: ["PCIDevice", "PCIEDevice"],
  "ioh-3240-express-root-port": ["port.br.dev", "parent_obj.parent_obj.parent_obj", "port.br.dev.exp.aer_log", "parent_obj.parent_obj.parent_obj.exp.aer_log"],
  cirrus_vga: ["hw_cursor_x", "vga.hw_cursor_x", "hw_cursor_y", "vga.hw_cursor_y"],
  lsiscsi: ["dev", "parent_obj"],
  mch: ["d", "parent_obj"],
  pci_bridge: ["bridge.dev", "parent_obj", "bridge.dev.shpc", "shpc"],
  pcnet: ["pci_dev", "parent_obj"],
  PIIX3: ["pci_irq_levels", "pci_irq_levels_vmstate"],
  piix4_pm: [
    "dev", "parent_obj", "pci0_status", "acpi_pci_hotplug.acpi_pcihp_pci_status[0x0]", "pm1a.sts", "ar.pm1.evt.sts",
    "pm1a.en", "ar.pm1.evt.en", "pm1_cnt.cnt", "ar.pm1.cnt.cnt", "tmr.timer", "ar.tmr.timer", "tmr.overflow_time",
    "ar.tmr.overflow_time", "gpe", "ar.gpe",
  ],
  rtl8139: ["dev", "parent_obj"],
  qxl: ["num_surfaces", "ssd.num_surfaces"],
  "usb-ccid": ["abProtocolDataStructure", "abProtocolDataStructure.data"],
  "usb-host": ["dev", "parent_obj"],
  "usb-mouse": ["usb-ptr-queue", "HIDPointerEventQueue"],
  "usb-tablet": ["usb-ptr-queue", "HIDPointerEventQueue"],
  vmware_vga: ["card", "parent_obj"],
  vmware_vga_internal: ["depth", "new_depth"],
  xhci: ["pci_dev", "parent_obj"],
  "x3130-upstream": ["PCIDevice", "PCIEDevice"],
  "xio3130-express-downstream-port": ["port.br.dev", "parent_obj.parent_obj.parent_obj", "port.br.dev.exp.aer_log", "parent_obj.parent_obj.parent_obj.exp.aer_log"],
  "xio3130-downstream": ["PCIDevice", "PCIEDevice"],
  "xio3130-express-upstream-port": ["br.dev", "parent_obj.parent_obj", "br.dev.exp.aer_log", "parent_obj.parent_obj.exp.aer_log"],
  spapr_pci: [
    "dma_liobn[0]", "mig_liobn", "mem_win_addr", "mig_mem_win_addr", "mem_win_size", "mig_mem_win_size", "io_win_addr",
    "mig_io_win_addr", "io_win_size", "mig_io_win_size",
  ],
};

/** Section renames (commit 292b1634 and e1000). */
const SECTION_RENAMES: ReadonlyArray<readonly [string, string]> = [
  ["ICH9 LPC", "ICH9-LPC"],
  ["e1000-82540em", "e1000"],
];

function namesMatch(scope: string, s: string, d: string): boolean {
  if (s === d) return true;
  const alias = CHANGED_NAMES[scope];
  return alias !== undefined && alias.includes(s) && alias.includes(d);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function num(o: Obj, k: string): number {
  const v = o[k];
  return typeof v === "number" ? v : 0;
}

class Differ {
  readonly out: Finding[] = [];
  constructor(readonly section: string) {}

  add(severity: Finding["severity"], code: FindingCode, path: readonly string[], message: string): void {
    this.out.push({ severity, section: this.section, path: path.join(" > "), message, code });
  }

  /** check_version, with the minimum-version case always counted. */
  versions(s: Obj, d: Obj, path: readonly string[]): void {
    const sv = num(s, "version_id");
    const dv = num(d, "version_id");
    if (sv > dv) this.add("error", "version-too-new", path, `version ${sv} is newer than dest's ${dv}`);
    if ("minimum_version_id" in d && sv < num(d, "minimum_version_id")) {
      this.add("error", "version-too-old", path, `version ${sv} is older than dest's minimum ${num(d, "minimum_version_id")}`);
    }
  }

  description(s: DumpDescription, d: DumpDescription, path: readonly string[], skipVersions = false): void {
    const here = [...path, s.name];
    if (!skipVersions) this.versions(s as unknown as Obj, d as unknown as Obj, here);
    if (!namesMatch(this.section, s.name, d.name)) {
      this.add("error", "description-name", here, `description "${s.name}" missing, dest has "${d.name}"`);
      return;
    }
    for (const key of Object.keys(s)) {
      if (!(key in d)) {
        this.add("error", "entry-missing", here, `entry "${key}" missing in dest`);
        continue;
      }
      if (key === "Fields") this.fields(s.Fields ?? [], d.Fields ?? [], s.name, s.version_id, here);
      if (key === "Subsections") this.subsections(s.Subsections ?? [], d.Subsections ?? [], here);
    }
  }

  subsections(ss: readonly DumpDescription[], ds: readonly DumpDescription[], path: readonly string[]): void {
    for (const s of ss) {
      const matches = ds.filter((d) => d.name === s.name);
      if (matches.length === 0) {
        // needed() is unknowable statically: if the source sends it, dest fails with ENOENT.
        this.add("error", "subsection-missing", path, `subsection "${s.name}" not found in dest`);
      }
      for (const d of matches) this.description(s, d, path);
    }
  }

  /** A field both sides have: presence at the source's version, size, nested description. */
  matched(s: DumpField, d: DumpField, version: number, path: readonly string[]): void {
    const here = [...path, s.field];
    const sp = s.field_exists || s.version_id <= version;
    const dp = d.field_exists || d.version_id <= version;
    if (!s.field_exists && !d.field_exists && sp !== dp) {
      this.add(
        "error",
        "field-presence",
        here,
        sp
          ? `source sends it at version ${version} (since ${s.version_id}), dest reads it only from version ${d.version_id}`
          : `dest reads it at version ${version} (since ${d.version_id}), source sends it only from version ${s.version_id}`,
      );
    }
    if (s.field_exists !== d.field_exists) {
      this.add("warning", "field-exists", here, `field_exists test on ${s.field_exists ? "source" : "dest"} only; presence depends on device state`);
    }
    if (!s.Description && s.size !== d.size) this.add("error", "size-mismatch", here, `size ${s.size} in source, ${d.size} in dest`);
    if (s.Description) {
      if (!d.Description) this.add("error", "description-missing", here, `dest has no description for this field`);
      else this.description(s.Description, d.Description, path);
    }
  }

  /** check_fields: lockstep walk with substruct moves and VMSTATE_UNUSED size carrying. */
  fields(src: readonly DumpField[], dst: readonly DumpField[], desc: string, version: number, path: readonly string[]): void {
    type It = { list: readonly DumpField[]; i: number };
    let sIt: It = { list: src, i: 0 };
    let dIt: It = { list: dst, i: 0 };
    const sStack: It[] = [];
    const dStack: It[] = [];
    let advanceSrc = true;
    let advanceDest = true;
    let unused = 0;
    let s: DumpField | undefined;
    let d: DumpField | undefined;
    for (;;) {
      if (advanceSrc) {
        if (sIt.i >= sIt.list.length) {
          if (sStack.length === 0) {
            this.trailing(dIt, dStack, version, path);
            return;
          }
          sIt = sStack.pop()!;
          continue;
        }
        s = sIt.list[sIt.i++]!;
      } else if (unused === 0) {
        advanceSrc = true;
      }
      if (advanceDest) {
        if (dIt.i >= dIt.list.length) {
          if (dStack.length === 0) {
            this.add("error", "dest-fields-exhausted", [...path, s!.field], `source sends this field, dest has no further fields`);
            return;
          }
          dIt = dStack.pop()!;
          advanceSrc = false;
          continue;
        }
        d = dIt.list[dIt.i++]!;
      } else if (unused === 0) {
        advanceDest = true;
      }
      const sf = s!;
      const df = d!;
      if (unused !== 0) {
        const item = advanceDest ? (advanceSrc ? undefined : df) : sf;
        if (item) {
          unused -= item.size;
          if (unused === 0) {
            if (item === sf) advanceDest = true;
            else advanceSrc = true;
            continue;
          }
          if (unused < 0) {
            this.add("error", "unused-size", [...path, item.field], `VMSTATE_UNUSED size does not line up with the fields near here`);
            return;
          }
          continue;
        }
      }
      if (!namesMatch(desc, sf.field, df.field)) {
        if (movedIntoSubstruct(df, sf.field)) {
          dStack.push(dIt);
          dIt = { list: df.Description!.Fields!, i: 0 };
          advanceSrc = false;
          continue;
        }
        if (movedIntoSubstruct(sf, df.field)) {
          sStack.push(sIt);
          sIt = { list: sf.Description!.Fields!, i: 0 };
          advanceDest = false;
          continue;
        }
        if (sf.field === "unused" || df.field === "unused") {
          if (sf.size === df.size) continue;
          if (df.field === "unused") {
            advanceDest = false;
            unused = df.size - sf.size;
            continue;
          }
          advanceSrc = false;
          unused = sf.size - df.size;
          continue;
        }
        this.add("error", "field-name", [...path, sf.field], `dest has field "${df.field}" here; the rest of "${desc}" is not compared`);
        return;
      }
      this.matched(sf, df, version, path);
    }
  }

  /** Fields dest still expects after the source's last one (the 7.2 script ignores these). */
  trailing(dIt: { list: readonly DumpField[]; i: number }, dStack: { list: readonly DumpField[]; i: number }[], version: number, path: readonly string[]): void {
    const rest = [dIt, ...dStack.slice().reverse()];
    for (const it of rest) {
      for (let i = it.i; i < it.list.length; i++) {
        const f = it.list[i]!;
        if (f.field_exists) {
          this.add("warning", "dest-extra-field", [...path, f.field], `dest may read this field (field_exists); source has no such field`);
        } else if (f.version_id <= version) {
          this.add("error", "dest-extra-field", [...path, f.field], `dest reads this field at version ${version}; source does not send it`);
        }
      }
    }
  }
}

function movedIntoSubstruct(f: DumpField, name: string): boolean {
  const sub = f.Description;
  if (!sub || !sub.Fields || sub.Fields.length === 0) return false;
  return namesMatch(sub.name, sub.Fields[0]!.field, name);
}

/** Shape check of a whole `-dump-vmstate` document: a MalformedError naming the path, never a TypeError later. */
export function checkDump(v: unknown, which: string): Obj {
  return asDump(v, which);
}

function asDump(v: unknown, which: string): Obj {
  if (!isObj(v)) throw new MalformedError(`${which}: a -dump-vmstate document is a JSON object`, 0);
  for (const [sec, body] of Object.entries(v)) {
    const path = `${which}.${JSON.stringify(sec)}`;
    if (!isObj(body)) throw bad(path, "an object");
    if (sec === "vmschkmachine") continue;
    checkNumbers(body, path);
    if ("Description" in body) checkDescription(body.Description, `${path}.Description`, 0);
  }
  return v;
}

function bad(path: string, expected: string): MalformedError {
  return new MalformedError(`${path}: not a -dump-vmstate entry`, 0, { path, expected });
}

function checkNumbers(o: Obj, path: string): void {
  for (const k of ["version_id", "minimum_version_id"]) {
    if (k in o && (typeof o[k] !== "number" || !Number.isFinite(o[k]))) throw bad(`${path}.${k}`, "a number");
  }
}

/** Shape check, so a hostile dump is a MalformedError and never a TypeError deep in the walk. */
function checkDescription(d: unknown, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new MalformedError(`${path}: descriptions nested deeper than ${MAX_DEPTH}`, 0);
  if (!isObj(d)) throw bad(path, "an object");
  if (typeof d.name !== "string") throw bad(`${path}.name`, "a string");
  if (typeof d.version_id !== "number") throw bad(`${path}.version_id`, "a number");
  checkNumbers(d, path);
  if ("Fields" in d) {
    if (!Array.isArray(d.Fields)) throw bad(`${path}.Fields`, "an array");
    d.Fields.forEach((f: unknown, i: number) => {
      const fp = `${path}.Fields[${i}]`;
      if (!isObj(f)) throw bad(fp, "an object");
      if (typeof f.field !== "string") throw bad(`${fp}.field`, "a string");
      if (typeof f.version_id !== "number") throw bad(`${fp}.version_id`, "a number");
      if (typeof f.size !== "number") throw bad(`${fp}.size`, "a number");
      if ("field_exists" in f && typeof f.field_exists !== "boolean") throw bad(`${fp}.field_exists`, "a boolean");
      if ("num" in f && (typeof f.num !== "number" || !Number.isSafeInteger(f.num) || f.num < 0)) throw bad(`${fp}.num`, "a count");
      if ("Description" in f) checkDescription(f.Description, `${fp}.Description`, depth + 1);
    });
  }
  if ("Subsections" in d) {
    if (!Array.isArray(d.Subsections)) throw bad(`${path}.Subsections`, "an array");
    d.Subsections.forEach((s: unknown, i: number) => checkDescription(s, `${path}.Subsections[${i}]`, depth + 1));
  }
}

/**
 * Compare two `-dump-vmstate` documents (parsed JSON): findings for SRC's
 * streams loading on DST, in section order of SRC.
 */
export function schemaDiff(srcDump: unknown, dstDump: unknown): Finding[] {
  const src = asDump(srcDump, "source");
  const dst = asDump(dstDump, "dest");
  const out: Finding[] = [];
  for (const sec of Object.keys(src)) {
    const differ = new Differ(sec);
    let dsec = sec;
    if (!(dsec in dst)) {
      const r = SECTION_RENAMES.find(([a, b]) => a === sec || b === sec);
      dsec = r ? (r[0] === sec ? r[1] : r[0]) : "";
      if (!(dsec in dst)) {
        differ.add("error", "section-missing", [], `section does not exist in dest`);
        out.push(...differ.out);
        continue;
      }
    }
    const s = src[sec];
    const d = dst[dsec];
    if (!isObj(s) || !isObj(d)) {
      throw new MalformedError(`section "${sec}" is not an object`, 0);
    }
    if (sec === "vmschkmachine") {
      if (s.Name !== d.Name) differ.add("warning", "machine-type", [], `machine types differ: "${String(s.Name)}" and "${String(d.Name)}"`);
      out.push(...differ.out);
      continue;
    }
    differ.versions(s, d, []);
    for (const entry of Object.keys(s)) {
      if (!(entry in d)) {
        differ.add("error", "entry-missing", [], `entry "${entry}" missing in dest`);
        continue;
      }
      if (entry === "Description" && isObj(s.Description) && isObj(d.Description)) {
        const sd = s.Description as unknown as DumpDescription;
        const dd = d.Description as unknown as DumpDescription;
        // The section entry repeats the top description's numbers; report each problem once.
        const same = sd.version_id === num(s, "version_id") && dd.version_id === num(d, "version_id") &&
          dd.minimum_version_id === num(d, "minimum_version_id");
        differ.description(sd, dd, [], same);
      }
    }
    out.push(...differ.out);
  }
  return out;
}

/** Parse a `-dump-vmstate` file's text; bad JSON is a MalformedError at the byte QEMU's writer would have broken. */
export function parseVmstateDump(text: string, what = "dump"): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return asDump(v, what);
  } catch (e) {
    if (e instanceof MalformedError) throw e;
    const m = /position (\d+)/.exec(String((e as Error).message));
    throw new MalformedError(`${what}: not JSON (${(e as Error).message})`, m ? Number(m[1]) : 0);
  }
}
