/**
 * The QEMU release sections of MATRIX.md: the releases at a glance (opening
 * the file), then every device cell per release pair, the real loads beside
 * preflight's predictions, and QEMU's own checker's findings that a real load
 * contradicts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { schemaDiff, summarize } from "@vmstream/vmstate";
import { StreamReader, bytesSource } from "@vmstream/framing";
import { COMPAT_DIR } from "../files.js";
import type { PairRun, ReleaseCell } from "./cells.js";
import { FIXTURES, readDumps } from "./dumps.js";

export const REAL_LOADS = join(COMPAT_DIR, "real-loads.json");

export interface RealLoad {
  id: string;
  from: string;
  to: string;
  machine: string;
  change: string | null;
  real: { loaded: boolean; message: string };
  preflight: { loads: boolean; causes: string[] };
  agree: boolean;
  /** Why a disagreement is expected (written by hand in real-loads-reasons.json). */
  reason?: string;
}

export interface RealLoads {
  qemu: Record<string, string>;
  loads: RealLoad[];
}

export function readRealLoads(): RealLoads | null {
  if (!existsSync(REAL_LOADS)) return null;
  const doc = JSON.parse(readFileSync(REAL_LOADS, "utf8")) as RealLoads;
  const reasonsFile = join(COMPAT_DIR, "real-loads-reasons.json");
  const reasons = existsSync(reasonsFile) ? (JSON.parse(readFileSync(reasonsFile, "utf8")) as Record<string, string>) : {};
  for (const l of doc.loads) if (reasons[l.id]) l.reason = reasons[l.id];
  return doc;
}

/** The VMState description names of the README's q35 device streams (the devices real loads carried). */
export async function realDeviceSet(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const f of ["5.2/q35-5.2-devices.mig", "cross/7.2-to-pc-q35-7.2.mig", "cross/10.0-to-pc-q35-7.2.mig"]) {
    const bytes = readFileSync(join(FIXTURES, f));
    const sum = await summarize(new StreamReader(bytesSource(bytes)), "3", {});
    if (!sum.vmdesc || sum.vmdesc.offset < 0) continue;
    const json = JSON.parse(Buffer.from(bytes.subarray(sum.vmdesc.offset + 5, sum.vmdesc.offset + 5 + sum.vmdesc.length)).toString("latin1")) as { devices?: { vmsd_name?: string }[] };
    for (const d of json.devices ?? []) if (d.vmsd_name) out.add(d.vmsd_name);
  }
  return out;
}

const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const clip = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…` : s);

function cellText(c: ReleaseCell | undefined): string {
  if (!c) return "—";
  const mark = c.ok ? "✅" : "❌";
  if (!c.ok) return `${mark} ${c.predicted}: ${esc(clip(c.reason, 200))}`;
  const runs = c.runs ? ` (${c.runs})` : "";
  if (c.predicted === "compatible") return c.drops ? `${mark} compatible, drops values in ${c.dropped}/${c.runs}` : `${mark} compatible${runs}`;
  if (c.predicted === "conditional") return `${mark} conditional: refused ${c.refused}/${c.runs}${c.misread ? `, misread ${c.misread}` : ""}`;
  return `${mark} broken: refused ${c.refused}/${c.runs}${c.misread ? `, misread ${c.misread}` : ""}`;
}

export interface QemuCheckerView {
  /** Sections QEMU's checker (the --qemu-compatible findings) reports as errors. */
  errors: string[];
  /** Of those, layout errors of devices whose description was in the real streams of a load that succeeded for this pair. */
  contradicted: string[];
}

export function qemuCheckerView(from: string, to: string, devices: Set<string>, real: RealLoads | null): QemuCheckerView {
  const d = readDumps() as Record<string, Record<string, unknown>>;
  const all = schemaDiff(d[from], d[to]).filter((f) => f.severity === "error");
  const errors = all.map((f) => f.section);
  // A type the destination's build lacks cannot have been in a stream that loaded: not contradicted.
  const layout = all.filter((f) => f.code !== "section-missing").map((f) => f.section);
  const loaded = real?.loads.some((l) => l.from === from && l.to === to && l.change === null && l.machine.startsWith("pc-q35") && l.real.loaded) ?? false;
  const vmsdOf = (t: string) => ((d[from]![t] as { Description?: { name?: string } } | undefined)?.Description?.name ?? "");
  const contradicted = loaded ? [...new Set(layout.filter((t) => devices.has(vmsdOf(t))))] : [];
  return { errors, contradicted };
}

export function renderGlance(pairs: PairRun[], real: RealLoads | null, views: Map<string, QemuCheckerView>): string {
  const L: string[] = [];
  L.push("## QEMU releases at a glance", "");
  L.push(
    "From the `-dump-vmstate` of QEMU 5.2, 7.2 and 10.0 (`fixtures/qemu-releases/dumps/`), each device both builds have is a cell: the VMState interpreter saves states drawn from the source's description and loads them with the destination's, and the outcome must be what `vmstream schema-diff` predicts. Real loads: `compat/real-loads.json` (`node compat/bin/real-loads.mjs`, real QEMU, the README's q35 device set).",
    "",
  );
  L.push("| pair | in both | compatible | conditional | broken | drops values | only in source | only in destination | cells pass | predicted loads | real loads | QEMU checker errors | of those, contradicted by a real load (a device of the real q35 streams, which loaded) |");
  L.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const p of pairs) {
    const n = { compatible: 0, conditional: 0, broken: 0 };
    for (const v of p.diff.devices) n[v.verdict]++;
    const loads = real?.loads.filter((l) => l.from === p.from && l.to === p.to && l.change === null) ?? [];
    const view = views.get(`${p.from}|${p.to}`);
    L.push(
      `| ${p.from} → ${p.to} | ${p.diff.devices.length} | ${n.compatible} | ${n.conditional} | ${n.broken} | ${p.diff.devices.filter((v) => v.drops).length} | ${p.diff.onlyInSource.length} | ${p.diff.onlyInDest.length} | ${p.cells.filter((c) => c.ok).length}/${p.cells.length} (≥ ${Math.min(...p.cells.filter((c) => c.runs > 0).map((c) => c.runs))} runs each) | ${loads.filter((l) => l.preflight.loads).length}/${loads.length} | ${loads.filter((l) => l.real.loaded).length}/${loads.length} | ${view?.errors.length ?? "—"} | ${view ? `${view.contradicted.length}${view.contradicted.length ? `: ${view.contradicted.map((x) => `\`${x}\``).join(", ")}` : ""}` : "—"} |`,
    );
  }
  L.push("");
  return L.join("\n");
}

export function renderReleaseDetails(pairs: PairRun[], real: RealLoads | null): string {
  const L: string[] = [];
  L.push("## QEMU releases: every device", "");
  L.push(
    "Per adjacent release pair, both directions. compatible: every state loads and the destination holds the source's bytes; conditional: refused exactly when a subsection the destination lacks is sent or a field_exists test differs (counts: runs refused); broken: every state refused. Reasons per device: `vmstream schema-diff fixtures/qemu-releases/dumps/vmstate-A.json …-B.json`.",
    "",
  );
  const done = new Set<string>();
  for (const p of pairs) {
    const key = [p.from, p.to].sort().join("|");
    if (done.has(key)) continue;
    done.add(key);
    const back = pairs.find((q) => q.from === p.to && q.to === p.from);
    L.push(`### ${p.from} ↔ ${p.to}`, "");
    L.push(`| device | ${p.from} → ${p.to} | ${p.to} → ${p.from} |`, "| --- | --- | --- |");
    const names = [...new Set([...p.cells.map((c) => c.device), ...(back?.cells.map((c) => c.device) ?? [])])].sort();
    for (const dev of names) {
      L.push(`| ${esc(dev)} | ${cellText(p.cells.find((c) => c.device === dev))} | ${cellText(back?.cells.find((c) => c.device === dev))} |`);
    }
    const only = [...new Set([...p.diff.onlyInSource, ...p.diff.onlyInDest])].sort();
    L.push("", `Only in ${p.from}: ${p.diff.onlyInSource.map((x) => `\`${x}\``).join(", ") || "none"}.`, "", `Only in ${p.to}: ${p.diff.onlyInDest.map((x) => `\`${x}\``).join(", ") || "none"}.`, "");
    void only;
  }
  if (real) {
    L.push("### Real loads beside the prediction", "");
    L.push(`QEMU: ${Object.entries(real.qemu).map(([r, v]) => `${r} = ${v}`).join("; ")}.`, "");
    L.push("| load | machine | destination differs | real QEMU | preflight | agree |", "| --- | --- | --- | --- | --- | --- |");
    for (const l of real.loads) {
      const verdict = l.agree ? "✅" : l.reason ? `⚠️ ${esc(l.reason)}` : "❌";
      L.push(
        `| ${l.from} → ${l.to} | ${l.machine} | ${esc(l.change ?? "—")} | ${l.real.loaded ? "loaded" : `refused: ${esc(clip(l.real.message))}`} | ${l.preflight.loads ? "loads" : `refuses: ${esc(clip(l.preflight.causes.join(" · ")))}`} | ${verdict} |`,
      );
    }
    L.push("");
  }
  return L.join("\n");
}

/** Failures of the release sections: failing cells, and real loads that disagree with no written reason. */
export function releaseProblems(pairs: PairRun[], real: RealLoads | null): string[] {
  const out: string[] = [];
  for (const p of pairs) for (const c of p.cells) if (!c.ok) out.push(`qemu ${c.from}→${c.to} ${c.device}: ${c.reason}`);
  for (const l of real?.loads ?? []) if (!l.agree && !l.reason) out.push(`real load ${l.id}: QEMU ${l.real.loaded ? "loaded" : "refused"}, preflight ${l.preflight.loads ? "loads" : "refuses"} (write a reason in compat/real-loads-reasons.json or fix preflight)`);
  return out;
}

/** MATRIX.md with the release glance after the title block and the details at the end. */
export function withReleases(md: string, glance: string, details: string): string {
  const at = md.indexOf("\n**");
  const head = at >= 0 ? md.slice(0, at + 1) : "";
  const rest = at >= 0 ? md.slice(at + 1) : md;
  return `${head}${glance}\n${rest.trimEnd()}\n\n${details}`;
}
