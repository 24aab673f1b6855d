import { append, el } from "../dom.js";

/**
 * The compat matrix view. The shape is the one `vmstream matrix --json` and
 * compat/out/matrix.json carry (docs/cli.md):
 * `{"cells": [{family, from, to, property, verdict, runs, seed, reason}]}`.
 */
export interface Cell {
  family: string;
  from: string;
  to: string;
  property: string;
  verdict: "pass" | "fail" | "expected-fail";
  runs: number;
  seed: number;
  reason: string;
}

const VERDICTS = ["pass", "fail", "expected-fail"];

/** Check the shape of a matrix.json value; a bad one gets one message naming the cell and field. */
export function parseCells(value: unknown): Cell[] {
  const cells = (value as { cells?: unknown } | null)?.cells;
  if (!Array.isArray(cells)) throw new Error('expected an object with a "cells" array');
  return cells.map((c, i) => {
    const x = (c ?? {}) as Record<string, unknown>;
    for (const k of ["family", "from", "to", "property", "verdict"]) {
      if (typeof x[k] !== "string") throw new Error(`cells[${i}].${k}: expected a string`);
    }
    if (!VERDICTS.includes(x.verdict as string)) throw new Error(`cells[${i}].verdict: expected pass, fail or expected-fail`);
    return {
      family: x.family as string,
      from: x.from as string,
      to: x.to as string,
      property: x.property as string,
      verdict: x.verdict as Cell["verdict"],
      runs: typeof x.runs === "number" ? x.runs : 0,
      seed: typeof x.seed === "number" ? x.seed : 0,
      reason: typeof x.reason === "string" ? x.reason : "",
    };
  });
}

const SYMBOL: Record<Cell["verdict"], string> = { pass: "✔ pass", fail: "✘ fail", "expected-fail": "◐ expected" };

/** One row per version pair, one column per property; every non-pass cell's reason listed below. */
export function renderMatrix(root: HTMLElement, cells: Cell[], source: string): void {
  const props: string[] = [];
  const rows = new Map<string, Map<string, Cell>>();
  for (const c of cells) {
    if (!props.includes(c.property)) props.push(c.property);
    const key = `${c.family}\u0000${c.from}\u0000${c.to}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = new Map()));
    row.set(c.property, c);
  }
  const counts = { pass: 0, fail: 0, "expected-fail": 0 };
  for (const c of cells) counts[c.verdict]++;
  const head = el("tr", {}, el("th", {}, "family"), el("th", {}, "from → to"), ...props.map((p) => el("th", {}, p)));
  const body = el("tbody");
  for (const [key, row] of rows) {
    const [family, from, to] = key.split("\u0000");
    body.append(
      el(
        "tr",
        {},
        el("td", {}, family),
        el("td", { class: "mono" }, `${from} → ${to}`),
        ...props.map((p) => {
          const c = row.get(p);
          if (!c) return el("td", { class: "na" }, "—");
          const title = `${c.runs} runs, seed ${c.seed}${c.reason ? `\n${c.reason}` : ""}`;
          return el("td", { class: `verdict ${c.verdict}`, title }, SYMBOL[c.verdict]);
        }),
      ),
    );
  }
  const problems = cells.filter((c) => c.verdict !== "pass");
  root.replaceChildren();
  append(
    root,
    el("p", { "data-testid": "matrix-summary" }, `${source}: ${cells.length} cells — ${counts.pass} pass, ${counts.fail} fail, ${counts["expected-fail"]} expected-fail`),
    el("table", { class: "matrix" }, el("thead", {}, head), body),
    problems.length
      ? el(
          "div",
          {},
          el("h3", {}, "Cells that are not green"),
          el(
            "ul",
            { class: "reasons" },
            ...problems.map((c) => el("li", { class: c.verdict }, el("b", {}, `${c.family} ${c.from} → ${c.to} ${c.property}: ${c.verdict}`), ` (${c.runs} runs, seed ${c.seed}) `, c.reason)),
          ),
        )
      : null,
  );
}
