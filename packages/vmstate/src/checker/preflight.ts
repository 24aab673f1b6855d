/**
 * preflight: will this exact stream load on that destination? The checks
 * QEMU's incoming side makes, in the order it makes them, each cause named in
 * QEMU's own words:
 *
 * 1. the configuration section: machine type ("Machine type received is 'X'
 *    and local is 'Y'"), capabilities ("Capability X is off, but received
 *    capability is on"), UUID under validate-uuid ("UUID received is A and
 *    local is B");
 * 2. commands: a postcopy advise needs postcopy-ram on the destination ("RAM
 *    postcopy is disabled but have 16 byte advise");
 * 3. every section by idstr and instance ("Unknown savevm section or instance
 *    'ID' N"; a vCPU count is cpu_common's instances), its version ("savevm:
 *    unsupported version V for 'ID' vW");
 * 4. RAM blocks by name and size ("Size mismatch: pc.ram: 0x4000000 !=
 *    0x8000000: Invalid argument");
 * 5. each device's layout: the stream's vmdesc (what was sent, with the
 *    subsections that were sent) against the destination's description, by
 *    the wire comparison of wireDiff.
 *
 * The destination is described by a stream it wrote for the same command line
 * (a "probe": its configuration, sections, RAM blocks and vmdesc), by its
 * `-dump-vmstate` (which devices and layouts its build has), or both.
 */
import type { QemuSummary } from "../stream/inspect.js";
import { checkDump } from "./diff.js";
import type { DumpSection } from "./dump.js";
import { NumTable, numIndex } from "./layout.js";
import { dumpFromVmdesc } from "./vmdesc-dump.js";
import { type WireFinding, compareSections, conditionText } from "./wire-diff.js";

/** What preflight needs of a stream: read from `inspect`'s summary and the vmdesc JSON. */
export interface StreamFacts {
  machine: string | null;
  capabilities: string[];
  uuid: string | null;
  postcopyAdvise: boolean;
  sections: { idstr: string; instance: number; version: number }[];
  ramBlocks: { name: string; length: number }[];
  /** vmdesc `devices[]` by "idstr instance". */
  vmdesc: Map<string, unknown>;
  /** Set when the stream could be read only in part (what was not checked). */
  partial?: string;
}

type J = Record<string, unknown>;

export function streamFacts(sum: QemuSummary, vmdesc: unknown): StreamFacts {
  const sub = (name: string) => sum.configuration?.subsections.find((s) => s.name === name);
  const caps = sub("configuration/capabilities")?.value;
  const uuid = sub("configuration/uuid")?.value;
  const seen = new Set<string>();
  const sections: StreamFacts["sections"] = [];
  for (const s of sum.sections) {
    if (s.kind !== "full" && s.kind !== "start") continue;
    const key = `${s.idstr} ${s.instance}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sections.push({ idstr: s.idstr, instance: s.instance, version: s.version });
  }
  const devices = new Map<string, unknown>();
  const list = vmdesc !== null && typeof vmdesc === "object" ? (vmdesc as J).devices : undefined;
  if (Array.isArray(list)) for (const d of list) if (d && typeof d === "object") devices.set(`${String((d as J).name)} ${Number((d as J).instance_id ?? 0)}`, d);
  return {
    machine: sum.configuration?.name ?? null,
    capabilities: Array.isArray(caps) ? caps.map(String) : [],
    uuid: typeof uuid === "string" ? uuid : null,
    postcopyAdvise: sum.commands.some((c) => c.name === "POSTCOPY_ADVISE"),
    sections,
    ramBlocks: sum.ram.blocks.map((b) => ({ name: b.name, length: b.length })),
    vmdesc: devices,
  };
}

/** `destination-start`: the destination's command line does not start (set by `vmstream preflight --qemu`, which runs it). */
export type CauseCode = "destination-start" | "machine-type" | "capability" | "uuid" | "postcopy" | "unknown-section" | "section-version" | "ramblock-missing" | "ramblock-size" | "layout";

export interface PreflightCause {
  code: CauseCode;
  /** QEMU's message for this refusal (or, for layouts, the checker's reason). */
  message: string;
  /** The section (idstr and instance) or RAM block concerned, when there is one. */
  subject?: string;
  /** true: QEMU refuses. false: it may refuse (depends on what preflight cannot see). */
  fatal: boolean;
}

export interface PreflightResult {
  loads: boolean;
  causes: PreflightCause[];
  /** What was checked against what (for the report). */
  checked: string[];
}

export interface PreflightDest {
  /** A stream the destination wrote for the same command line. */
  probe?: StreamFacts;
  /** The destination build's `-dump-vmstate`. */
  dump?: unknown;
  /** The destination runs with validate-uuid and this -uuid. */
  uuid?: string;
  /** Capabilities set on the destination (else the probe's, else none). */
  capabilities?: string[];
  /** postcopy-ram is on at the destination (else: the probe advised postcopy). */
  postcopy?: boolean;
}

const hex = (n: number) => `0x${n.toString(16)}`;
const UNKNOWN = "Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices";

/** RAM blocks QEMU creates resizeable (ACPI ROM blobs): a smaller or larger length loads up to the destination's maximum. */
const resizeable = (name: string) => name.startsWith("/rom@etc/");

export function preflight(stream: StreamFacts, dest: PreflightDest): PreflightResult {
  const causes: PreflightCause[] = [];
  const checked: string[] = [];
  if (stream.partial) checked.push(stream.partial);
  if (dest.probe?.partial) checked.push(dest.probe.partial);
  const dump = dest.dump === undefined ? undefined : (checkDump(dest.dump, "dest") as Record<string, unknown>);
  const probe = dest.probe;

  // 1. Configuration.
  // A dump names the machine type it was taken with, not the ones its build runs: only a probe decides.
  const localMachine = probe?.machine ?? null;
  if (stream.machine !== null && localMachine !== null) {
    checked.push("machine type");
    if (stream.machine !== localMachine) causes.push({ code: "machine-type", message: `Machine type received is '${stream.machine}' and local is '${localMachine}'`, fatal: true });
  }
  const localCaps = dest.capabilities ?? probe?.capabilities;
  if (localCaps) {
    checked.push("capabilities");
    for (const c of stream.capabilities) {
      if (!localCaps.includes(c)) causes.push({ code: "capability", message: `Capability ${c} is off, but received capability is on`, subject: c, fatal: true });
    }
  }
  const localUuid = dest.uuid ?? probe?.uuid ?? null;
  if (stream.uuid !== null && localUuid !== null) {
    checked.push("UUID");
    if (stream.uuid !== localUuid) causes.push({ code: "uuid", message: `UUID received is ${stream.uuid} and local is ${localUuid}`, fatal: true });
  }

  // 2. Commands.
  const postcopy = dest.postcopy ?? probe?.postcopyAdvise;
  if (stream.postcopyAdvise && postcopy !== undefined) {
    checked.push("postcopy");
    if (!postcopy) causes.push({ code: "postcopy", message: "RAM postcopy is disabled but have 16 byte advise", fatal: true });
  }

  // 3. Sections, and 5. their layouts.
  const probeSections = probe ? new Map(probe.sections.map((s) => [`${s.idstr} ${s.instance}`, s])) : null;
  const byVmsd = new Map<string, string>();
  if (dump) for (const [k, v] of Object.entries(dump)) if (k !== "vmschkmachine" && (v as J).Description) byVmsd.set(((v as J).Description as J).name as string, k);
  const dumpNums = dump ? numIndex(dump) : null;
  checked.push(`${stream.sections.length} sections against ${[probe ? "the probe's sections" : "", dump ? "the dump's devices" : ""].filter(Boolean).join(" and ") || "nothing"}`);
  let ramDone = false;
  for (const s of stream.sections) {
    const key = `${s.idstr} ${s.instance}`;
    if (s.idstr === "ram" && probe && !ramDone) {
      ramDone = true;
      ramBlocks(stream, probe, causes, checked);
    }
    const entry = stream.vmdesc.get(key);
    const vmsd = entry && typeof entry === "object" ? ((entry as J).vmsd_name as string | undefined) : undefined;
    if (probeSections) {
      const p = probeSections.get(key);
      if (!p) {
        // A device (a qdev path) or another instance of a section the destination has is
        // decided. A global handler the probe did not send may still be registered there,
        // with a needed() that was false for the probe (QEMU 7.2's "audio"): not decided.
        const decided = s.idstr.includes("/") || probe!.sections.some((x) => x.idstr === s.idstr);
        causes.push({
          code: "unknown-section",
          message: `Unknown savevm section or instance '${s.idstr}' ${s.instance}. ${UNKNOWN}${decided ? "" : " (the probe did not send this section; the destination may still accept it)"}`,
          subject: key,
          fatal: decided,
        });
        continue;
      }
      if (s.version > p.version) {
        causes.push({ code: "section-version", message: `savevm: unsupported version ${s.version} for '${s.idstr}' v${p.version}`, subject: key, fatal: true });
        continue;
      }
    }
    // A dump lists the build's device types, not this VM's devices nor savevm handlers that are
    // not devices (timer, cpu, ram…): only a probe decides which sections the destination has.
    if (!entry) continue; // ram, and sections without vmdesc: no layout to compare
    const src = dumpFromVmdesc(entry);
    if (!src) continue;
    let dst: DumpSection | undefined;
    let dNums: NumTable | undefined;
    const type = vmsd !== undefined ? byVmsd.get(vmsd) : undefined;
    // Layouts against the destination's dump only: a probe's vmdesc says what the destination
    // sent (its field_exists tests and buffer sizes of the moment), not everything it reads.
    if (dump && type) {
      dst = dump[type] as DumpSection;
      // A count the dump does not print (VARRAYs; every array before QEMU 8) is the source's.
      dNums = new NumTable(false, numIndex({ s: src }));
    }
    if (!dst || !dNums) continue;
    const sNums = new NumTable(true, dumpNums);
    const findings = compareSections(key, { ...src, version_id: s.version }, dst, sNums, dNums, true);
    for (const f of findings) {
      if (f.effect !== "refused" && f.effect !== "desync") continue;
      causes.push(layoutCause(f, key, dump !== undefined && type !== undefined));
    }
  }

  if (probe && !ramDone) ramBlocks(stream, probe, causes, checked);
  return { loads: !causes.some((c) => c.fatal), causes, checked };
}

/** 4. RAM blocks, checked where QEMU checks them: at the ram section, the first in a stream. */
function ramBlocks(stream: StreamFacts, probe: StreamFacts, causes: PreflightCause[], checked: string[]): void {
  checked.push("RAM blocks");
  const local = new Map(probe.ramBlocks.map((b) => [b.name, b.length]));
  for (const b of stream.ramBlocks) {
    const l = local.get(b.name);
    if (l === undefined) causes.push({ code: "ramblock-missing", message: `Unknown ramblock "${b.name}", cannot accept migration`, subject: b.name, fatal: true });
    else if (l !== b.length) {
      causes.push({ code: "ramblock-size", message: `Size mismatch: ${b.name}: ${hex(b.length)} != ${hex(l)}: Invalid argument`, subject: b.name, fatal: !resizeable(b.name) });
    }
  }
}

/**
 * A layout finding as a cause. Against the destination's dump, subsections
 * are decided (the stream's vmdesc lists those it sent); a destination
 * field_exists test is not, so such findings are "may refuse". Against a
 * probe's vmdesc only, a subsection the probe did not send may still exist in
 * the destination's build: not fatal either.
 */
function layoutCause(f: WireFinding, key: string, againstDump: boolean): PreflightCause {
  const when = f.when ?? [];
  const onlySubs = when.every((a) => "subsection" in a);
  const fatal = onlySubs && (againstDump || !when.length) && !(f.code === "subsection-missing" && !againstDump);
  const path = f.path ? ` ${f.path}` : "";
  const tail = when.length && !fatal ? ` (if ${conditionText(when.filter((a) => !("subsection" in a)))})` : "";
  const probeNote = f.code === "subsection-missing" && !againstDump ? " (the probe did not send it; pass the destination's -dump-vmstate to decide)" : "";
  return { code: "layout", message: `error while loading state for instance 0x${(Number(key.split(" ").at(-1)) || 0).toString(16)} of device '${key.slice(0, key.lastIndexOf(" "))}':${path} ${f.reason}${tail}${probeNote}`, subject: key, fatal };
}
