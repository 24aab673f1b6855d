/**
 * The compat matrix as plain data, and its renderings. The compat runner
 * (private `compat/` workspace) fills it; `vmstream matrix` renders or checks
 * it; release scripts read `matrix.json`. Nothing here imports a codec or
 * fast-check, so the CLI can render a matrix without running one.
 */

export type Verdict = "pass" | "fail" | "expected-fail";

/** The properties every version pair is held to, in the order the matrix shows them. */
export const MATRIX_PROPERTIES = ["upgrade", "downgrade", "forward", "static-dynamic"] as const;
export type MatrixProperty = (typeof MATRIX_PROPERTIES)[number];

/** What each property means, for the legend of every rendering. */
export const PROPERTY_MEANING: Record<MatrixProperty, string> = {
  upgrade: "encode at `from`, convert or load at `to`, decode: equal to the expected upgraded value",
  downgrade: "`to` → `from` is lossless, or refused with the loss named; never silent",
  forward: "a `from` reader on `to` data rejects cleanly with a typed error (or skips what the spec says is skippable)",
  "static-dynamic": "the static checker's verdict for the pair equals what the round trips observed, value by value",
};

/** One cell: a property of one version pair, as `matrix.json` carries it. */
export interface MatrixCell {
  /** A spec family (`context`), or `vmstate:<device>` for a VMState device schema. */
  family: string;
  from: string;
  /** A version of the same family, or `family@version` for a cross-family conversion. */
  to: string;
  property: string;
  verdict: Verdict;
  /** Property runs actually executed (0 when the cell could not run). */
  runs: number;
  seed: number;
  /** Why the cell is not green ("" when it passes). */
  reason: string;
}

export interface Matrix {
  cells: MatrixCell[];
}

/** A cell's result before the known-incompatibilities list is applied. */
export type ObservedCell = Omit<MatrixCell, "verdict"> & { ok: boolean };

/** One entry of `compat/known-incompatibilities.json`. */
export interface KnownIncompatibility {
  family: string;
  from: string;
  to: string;
  property: string;
  /** Why this cell is expected to fail, for the release manager. */
  reason: string;
}

export const cellKey = (c: { family: string; from: string; to: string; property: string }): string =>
  `${c.family} ${c.from}→${c.to} ${c.property}`;

/**
 * Apply the known-incompatibilities list the way protobuf-es applies its
 * failing-tests list: a listed failure is `expected-fail`, an unlisted one is
 * `fail`, and a listed cell that passes is also `fail` (the list is stale and
 * must shrink). A listed entry that matches no cell is reported as a problem.
 */
export function classify(observed: readonly ObservedCell[], known: readonly KnownIncompatibility[]): { matrix: Matrix; problems: string[] } {
  const listed = new Map(known.map((k) => [cellKey(k), k]));
  const problems: string[] = [];
  const seen = new Set<string>();
  const cells = observed.map((o): MatrixCell => {
    const key = cellKey(o);
    seen.add(key);
    const k = listed.get(key);
    const { ok, ...rest } = o;
    if (ok && !k) return { ...rest, verdict: "pass", reason: "" };
    if (!ok && k) return { ...rest, verdict: "expected-fail", reason: `known: ${k.reason} (observed: ${o.reason})` };
    if (!ok) {
      problems.push(`${key}: new failure: ${o.reason}`);
      return { ...rest, verdict: "fail" };
    }
    problems.push(`${key}: listed as a known incompatibility but passes now; remove it from known-incompatibilities.json`);
    return { ...rest, verdict: "fail", reason: `listed as known (${k!.reason}) but passes now: remove it from known-incompatibilities.json` };
  });
  for (const k of known) {
    const key = cellKey(k);
    if (!seen.has(key)) problems.push(`${key}: listed in known-incompatibilities.json but no such cell exists`);
  }
  return { matrix: { cells }, problems };
}

/** Every required cell passes: nothing is `fail` (expected failures are listed with reasons). */
export const matrixPasses = (m: Matrix): boolean => m.cells.length > 0 && m.cells.every((c) => c.verdict !== "fail");

export function matrixCounts(m: Matrix): Record<Verdict, number> {
  const n: Record<Verdict, number> = { pass: 0, fail: 0, "expected-fail": 0 };
  for (const c of m.cells) n[c.verdict]++;
  return n;
}

const VERDICTS: readonly string[] = ["pass", "fail", "expected-fail"];

/** Read a `matrix.json` value, checking its shape (release scripts and `vmstream matrix --input` rely on it). */
export function parseMatrix(value: unknown): Matrix {
  const cells = (value as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells)) throw new Error("matrix: expected an object with a \"cells\" array");
  return {
    cells: cells.map((c, i): MatrixCell => {
      const x = c as Record<string, unknown>;
      const str = (k: string): string => {
        if (typeof x[k] !== "string") throw new Error(`matrix: cells[${i}].${k}: expected a string`);
        return x[k] as string;
      };
      const num = (k: string): number => {
        if (typeof x[k] !== "number" || !Number.isSafeInteger(x[k])) throw new Error(`matrix: cells[${i}].${k}: expected an integer`);
        return x[k] as number;
      };
      const verdict = str("verdict");
      if (!VERDICTS.includes(verdict)) throw new Error(`matrix: cells[${i}].verdict: expected pass, fail or expected-fail, found ${verdict}`);
      return {
        family: str("family"),
        from: str("from"),
        to: str("to"),
        property: str("property"),
        verdict: verdict as Verdict,
        runs: num("runs"),
        seed: num("seed"),
        reason: str("reason"),
      };
    }),
  };
}

/** `matrix.json` text: stable key order, one cell per line so diffs stay readable. */
export function renderJson(m: Matrix): string {
  const line = (c: MatrixCell): string =>
    JSON.stringify({ family: c.family, from: c.from, to: c.to, property: c.property, verdict: c.verdict, runs: c.runs, seed: c.seed, reason: c.reason });
  return `{"cells": [\n${m.cells.map((c) => `  ${line(c)}`).join(",\n")}\n]}\n`;
}

interface Row {
  family: string;
  from: string;
  to: string;
  cells: Map<string, MatrixCell>;
}

/** Rows (one per pair, in first-seen order) and the property columns. */
function grid(m: Matrix): { rows: Row[]; props: string[] } {
  const rows: Row[] = [];
  const byPair = new Map<string, Row>();
  const props: string[] = [...MATRIX_PROPERTIES];
  for (const c of m.cells) {
    const k = `${c.family}\u0000${c.from}\u0000${c.to}`;
    let row = byPair.get(k);
    if (!row) {
      row = { family: c.family, from: c.from, to: c.to, cells: new Map() };
      byPair.set(k, row);
      rows.push(row);
    }
    row.cells.set(c.property, c);
    if (!props.includes(c.property)) props.push(c.property);
  }
  return { rows, props };
}

const MARK: Record<Verdict, string> = { pass: "✅ pass", fail: "❌ fail", "expected-fail": "⚠️ expected-fail" };

const mdEscape = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ").replace(/</g, "&lt;");

export interface RenderOptions {
  /** Title line; defaults to "Compatibility matrix". */
  title?: string;
  /** How to regenerate, shown under the title. */
  regenerate?: string;
}

/**
 * `MATRIX.md`: deterministic for a given matrix (no clock, no host, no commit),
 * so a fresh run at the default seed reproduces the committed file exactly.
 */
export function renderMarkdown(m: Matrix, opts: RenderOptions = {}): string {
  const { rows, props } = grid(m);
  const n = matrixCounts(m);
  const seeds = [...new Set(m.cells.map((c) => c.seed))];
  const runs = [...new Set(m.cells.map((c) => c.runs))].sort((a, b) => a - b);
  const out: string[] = [];
  out.push(`# ${opts.title ?? "Compatibility matrix"}`, "");
  out.push("<!-- generated; do not edit by hand -->", "");
  if (opts.regenerate) out.push(opts.regenerate, "");
  out.push(
    `**${matrixPasses(m) ? "Releasable" : "NOT releasable"}**: ${m.cells.length} cells, ${n.pass} pass, ${n.fail} fail, ${n["expected-fail"]} expected-fail.`,
    `Seed ${seeds.join(", ")}; runs per cell ${runs.length === 1 ? runs[0] : `${runs[0]}–${runs[runs.length - 1]}`}.`,
    "",
  );
  out.push(`| family | pair | ${props.join(" | ")} |`, `| --- | --- | ${props.map(() => "---").join(" | ")} |`);
  for (const r of rows) {
    const cols = props.map((p) => {
      const c = r.cells.get(p);
      return c ? `${MARK[c.verdict]} (${c.runs})` : "—";
    });
    out.push(`| ${mdEscape(r.family)} | ${mdEscape(`${r.from} → ${r.to}`)} | ${cols.join(" | ")} |`);
  }
  const notGreen = m.cells.filter((c) => c.verdict !== "pass");
  out.push("", "## Cells that are not green", "");
  if (notGreen.length === 0) out.push("None.");
  for (const c of notGreen) {
    out.push(`- ${MARK[c.verdict]} **${mdEscape(c.family)} ${mdEscape(c.from)} → ${mdEscape(c.to)} ${mdEscape(c.property)}** (runs ${c.runs}, seed ${c.seed}): ${mdEscape(c.reason)}`);
  }
  out.push("", "## Properties", "");
  for (const p of MATRIX_PROPERTIES) out.push(`- **${p}**: ${PROPERTY_MEANING[p]}.`);
  out.push("");
  return out.join("\n");
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * `matrix.html`: one self-contained page (inline CSS, no script, no network)
 * with a colour-coded grid; each cell shows verdict, runs, seed and, when not
 * green, the reason.
 */
export function renderHtml(m: Matrix, opts: RenderOptions = {}): string {
  const { rows, props } = grid(m);
  const n = matrixCounts(m);
  const title = opts.title ?? "Compatibility matrix";
  const ok = matrixPasses(m);
  const body: string[] = [];
  body.push(`<h1>${esc(title)}</h1>`);
  body.push(
    `<p class="summary ${ok ? "pass" : "fail"}"><strong>${ok ? "Releasable" : "NOT releasable"}</strong>: ${m.cells.length} cells — ${n.pass} pass, ${n.fail} fail, ${n["expected-fail"]} expected-fail</p>`,
  );
  body.push(
    '<p class="legend"><span class="pass">pass</span> the property held for every run · <span class="fail">fail</span> it did not, or could not run: do not release · <span class="expected-fail">expected-fail</span> a known incompatibility, with its reason</p>',
  );
  if (opts.regenerate) body.push(`<p>${esc(opts.regenerate)}</p>`);
  body.push("<table>", `<thead><tr><th>family</th><th>pair</th>${props.map((p) => `<th title="${esc(PROPERTY_MEANING[p as MatrixProperty] ?? p)}">${esc(p)}</th>`).join("")}</tr></thead>`, "<tbody>");
  for (const r of rows) {
    const tds = props.map((p) => {
      const c = r.cells.get(p);
      if (!c) return `<td class="none">—</td>`;
      // The counterexample is long: fold it so the grid stays readable at a glance.
      const cut = c.reason.indexOf(" [counterexample");
      const head = cut >= 0 ? c.reason.slice(0, cut) : c.reason;
      const tail = cut >= 0 ? `<details><summary>counterexample and replay</summary>${esc(c.reason.slice(cut + 1))}</details>` : "";
      const reason = c.reason ? `<div class="reason">${esc(head)}${tail}</div>` : "";
      return `<td class="${c.verdict}"><div class="verdict">${esc(c.verdict)}</div><div class="meta">${c.runs} runs · seed ${c.seed}</div>${reason}</td>`;
    });
    body.push(`<tr><th>${esc(r.family)}</th><th>${esc(`${r.from} → ${r.to}`)}</th>${tds.join("")}</tr>`);
  }
  body.push("</tbody></table>", "<h2>Properties</h2>", "<ul>");
  for (const p of MATRIX_PROPERTIES) body.push(`<li><strong>${esc(p)}</strong>: ${esc(PROPERTY_MEANING[p])}</li>`);
  body.push("</ul>");
  const css = [
    "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}",
    "table{border-collapse:collapse}",
    "th,td{border:1px solid #999;padding:.4em .6em;text-align:left;vertical-align:top}",
    "thead th{background:#eee}",
    "td.pass{background:#c8f0c8}",
    "td.fail{background:#f6b8b8}",
    "td[class='expected-fail']{background:#fbe3a6}",
    "td.none{background:#f4f4f4;color:#888}",
    ".verdict{font-weight:bold}",
    ".meta{font-size:12px;color:#444}",
    ".reason{font-size:12px;max-width:28em;white-space:pre-wrap;word-break:break-word}",
    ".legend span{padding:.1em .4em;border:1px solid #999}",
    ".legend .pass{background:#c8f0c8}",
    ".legend .fail{background:#f6b8b8}",
    ".legend span[class='expected-fail']{background:#fbe3a6}",
    "details summary{cursor:pointer;color:#444}",
    ".summary.pass{color:#185c18}",
    ".summary.fail{color:#8c1010}",
  ].join("\n");
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${esc(title)}</title>\n<style>\n${css}\n</style>\n</head>\n<body>\n${body.join("\n")}\n</body>\n</html>\n`;
}
