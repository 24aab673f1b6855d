/**
 * The diff of two QEMU saves as `vmstream diff` reports it: the verdict, the
 * machine type, RAM blocks and sections only in one side, section versions,
 * and a table of device-state fields with the reason each differs. Values
 * come from the streams, so they become text nodes only (dom.ts).
 */
import { el } from "../dom.js";
import type { DiffReport } from "../diff.js";

const show = (x: unknown): string => (x === undefined ? "" : typeof x === "string" ? x : JSON.stringify(x));
const hex = (n: number | undefined): string => (n === undefined ? "absent" : `0x${n.toString(16)}`);
/** Long values (buffers as hex) are cut in the cell; the full value is in its title. */
const cell = (x: unknown, cls: string): HTMLTableCellElement => {
  const s = show(x);
  return el("td", { class: `mono ${cls}`, title: s.length > 120 ? s.slice(0, 4000) : undefined }, s.length > 120 ? `${s.slice(0, 100)}… (${s.length} chars)` : s);
};

const plural = (n: number, what: string): string => `${n.toLocaleString("en-US")} ${what}${n === 1 ? "" : "s"}`;

/** RAM page by page: per block, what differs and where (block byte offsets). */
function ramTable(d: DiffReport): HTMLElement {
  const rows = d.ram.pages.map((p) => {
    const counts = [p.differ && `${plural(p.differ, "page")} differ`, p.onlyA && `${plural(p.onlyA, "page")} carried only in A`, p.onlyB && `${plural(p.onlyB, "page")} carried only in B`].filter(Boolean).join(", ");
    const ranges = p.ranges.map(([s, e]) => `0x${s.toString(16)}–0x${e.toString(16)}`).join(" ");
    const more = p.rangeCount > p.ranges.length ? ` … and ${(p.rangeCount - p.ranges.length).toLocaleString("en-US")} more ranges` : "";
    return el("tr", { "data-block": p.name }, el("td", {}, p.name), el("td", {}, counts), el("td", { class: "mono" }, ranges + more));
  });
  return el(
    "table",
    { class: "diff-ram", "data-testid": "diff-ram" },
    el("thead", {}, el("tr", {}, ...["RAM block", "pages", "where (block offsets)"].map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows),
  );
}

export function renderDiff(box: HTMLElement, d: DiffReport): void {
  const dv = d.devices;
  const verdict = d.equal
    ? `equal: ${dv.compared} sections compared${d.ram.note ? " (RAM pages not compared)" : ""}`
    : `different: ${dv.compared} sections compared, ${dv.fields.length} field differences, ${dv.onlyA.length + dv.onlyB.length} sections only in one`;
  const parts: (Node | null)[] = [
    el(
      "dl",
      { class: "diff-sides" },
      el("dt", {}, "A"),
      el("dd", { "data-testid": "diff-a" }, `${d.a.file} (${d.a.format}, ${d.a.machine ?? "no machine type"})`),
      el("dt", {}, "B"),
      el("dd", { "data-testid": "diff-b" }, `${d.b.file} (${d.b.format}, ${d.b.machine ?? "no machine type"})`),
    ),
    el("p", { class: d.equal ? "diff-verdict equal" : "diff-verdict different", "data-testid": "diff-verdict" }, verdict),
  ];
  const facts: string[] = [];
  if (d.machine) facts.push(`machine type: ${d.machine.a ?? "none"} in A, ${d.machine.b ?? "none"} in B`);
  for (const x of d.ram.blocks) facts.push(`RAM block ${x.name}: ${hex(x.a)} bytes in A, ${hex(x.b)} in B`);
  for (const s of dv.onlyA) facts.push(`section ${s.section} ${s.instance}: only in A (version ${s.version})`);
  for (const s of dv.onlyB) facts.push(`section ${s.section} ${s.instance}: only in B (version ${s.version})`);
  for (const v of dv.versions) facts.push(`section ${v.section} ${v.instance}: version ${v.a} in A, ${v.b} in B`);
  if (d.ram.note) facts.push(`RAM pages not compared: ${d.ram.note}`);
  if (facts.length) parts.push(el("ul", { class: "diff-facts", "data-testid": "diff-facts" }, ...facts.map((f) => el("li", {}, f))));
  if (d.ram.pages.length) parts.push(ramTable(d));
  if (dv.fields.length) {
    const rows = dv.fields.map((f) =>
      el(
        "tr",
        { class: `reason-${f.reason.replaceAll(" ", "-")}` },
        el("td", {}, f.section),
        el("td", {}, String(f.instance)),
        el("td", { class: "mono" }, f.path || "(section)"),
        el("td", {}, f.reason === "renamed" ? `renamed to ${f.renamedTo ?? "?"}` : f.reason),
        cell(f.a, "a"),
        cell(f.b, "b"),
      ),
    );
    parts.push(
      el(
        "table",
        { class: "diff-fields", "data-testid": "diff-fields" },
        el("thead", {}, el("tr", {}, ...["section", "instance", "field", "why", "A", "B"].map((h) => el("th", {}, h)))),
        el("tbody", {}, ...rows),
      ),
    );
  }
  parts.push(el("details", { class: "diff-text" }, el("summary", {}, "As ", el("code", {}, "vmstream diff"), " prints it"), el("pre", { "data-testid": "diff-text" }, d.lines.join("\n"))));
  box.replaceChildren(...parts.filter((x): x is Node => x !== null));
}
