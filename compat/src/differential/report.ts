import type { DifferentialResult, ResultRow } from "./run.js";

const cell = (rows: ResultRow[]): string => {
  const dis = rows.filter((r) => !r.agree && !r.peerDefect);
  const why = dis.filter((r) => r.reason).length;
  const defects = rows.filter((r) => r.peerDefect).length;
  let s = `${rows.length - dis.length - defects}/${rows.length - defects}`;
  if (dis.length) s += ` (${dis.length} differ${why ? `, ${why} explained` : ""})`;
  if (defects) s += ` +${defects} peer defect`;
  return s;
};

/**
 * The agreement table: one row per loader and region, one column per kind of
 * damage (agreeing/judged), then every disagreement with both messages.
 */
export function renderDifferential(res: DifferentialResult): string {
  const out: string[] = [];
  const damages = ["flip", "truncate", "insert", "delete"];
  const groups = new Map<string, ResultRow[]>();
  for (const r of res.rows) {
    const k = `${r.family === "qemu" ? `QEMU ${r.release}` : `Xen ${r.release} ${r.family}`}\t${r.region}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const agree = res.rows.filter((r) => r.agree).length;
  const defects = res.rows.filter((r) => r.peerDefect).length;
  out.push(`Seed ${res.seed}: ${res.rows.length} mutants, ${agree} verdicts agree with the real loader${defects ? `, ${defects} where the stock verify-stream-v2 is wrong (Python 3 defects, not counted)` : ""}.`);
  out.push("");
  out.push(`| loader | region | ${damages.join(" | ")} | all |`);
  out.push(`| --- | --- | ${damages.map(() => "---").join(" | ")} | --- |`);
  for (const [k, rows] of [...groups.entries()].sort()) {
    const [loader, region] = k.split("\t");
    const cols = damages.map((d) => {
      const x = rows.filter((r) => r.damage === d);
      return x.length ? cell(x) : "–";
    });
    out.push(`| ${loader} | ${region} | ${cols.join(" | ")} | ${cell(rows)} |`);
  }
  const dis = res.rows.filter((r) => !r.agree && !r.peerDefect);
  out.push("");
  if (!dis.length) out.push("No disagreements.");
  else {
    out.push("Disagreements (vmstream's verdict, then the loader's):");
    out.push("");
    for (const r of dis) {
      out.push(`- ${r.stream} #${r.index}, ${r.region}, ${r.what}: vmstream ${r.ours.verdict} (${r.ours.message}); ${r.family === "qemu" ? `QEMU ${r.release}` : "verify-stream-v2"} ${r.peer.verdict} (${r.peer.message})${r.reason ? ` — explained: ${r.reason}` : " — UNEXPLAINED"}`);
    }
  }
  if (res.missing.length) {
    out.push("");
    out.push(`Not run, peer missing: ${res.missing.join("; ")}.`);
  }
  return out.join("\n") + "\n";
}
