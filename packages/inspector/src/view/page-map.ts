/**
 * The page map of guest memory: one strip per RAM block, each column a bucket
 * of pages stacked by how the stream carried them (data, zero, compressed,
 * XBZRLE, mapped-ram) and how many it never sent; a legend with counts; and
 * the ranges by block offset, each with the ways the stream carried its pages.
 */
import { el } from "../dom.js";
import { type BlockMap, KINDS, type PageMap, type Range } from "../page-map.js";

const COLOR: Record<string, string> = {
  data: "#2456c7",
  zero: "#b8c0cc",
  compressed: "#8e44ad",
  xbzrle: "#e67e22",
  mapped: "#1e8a4c",
  never: "#ffffff",
};
const LABEL: Record<string, string> = { data: "data", zero: "zero", compressed: "compressed", xbzrle: "XBZRLE", mapped: "mapped-ram", never: "never sent" };
const HEIGHT = 22;
const n = (x: number): string => x.toLocaleString("en-US");
const hx = (x: number): string => `0x${x.toString(16)}`;

function swatch(kind: string): HTMLElement {
  const s = el("span", { class: "swatch" });
  s.style.background = COLOR[kind]!;
  return s;
}

export function legend(): HTMLElement {
  return el("div", { class: "pm-legend" }, ...[...KINDS, "never"].map((k) => el("span", {}, swatch(k), LABEL[k]!)));
}

/** `first–end` as block byte offsets. */
const span = (r: Range, ps: number): string => `${hx(r.firstPage * ps)}–${hx((r.firstPage + r.count) * ps)}`;

function strip(m: BlockMap): HTMLCanvasElement {
  const buckets = m.counts.length / KINDS.length;
  const c = el("canvas", { class: "pm-strip", width: Math.max(1, buckets), height: HEIGHT, "data-testid": "pm-strip" });
  const g = c.getContext("2d");
  if (!g) return c;
  for (let b = 0; b < buckets; b++) {
    const size = Math.min(m.per, m.pages - b * m.per);
    // Stack each kind by its share of the bucket's pages (a page sent twice counts in both kinds).
    const parts: [string, number][] = KINDS.map((k, i) => [k, m.counts[b * KINDS.length + i]!]);
    parts.push(["never", m.unsent ? m.unsent[b]! : 0]);
    const total = Math.max(size, parts.reduce((s, [, v]) => s + v, 0));
    let y = 0;
    for (const [k, v] of parts) {
      if (!v) continue;
      const h = Math.max(1, Math.round((v / total) * HEIGHT));
      g.fillStyle = COLOR[k]!;
      g.fillRect(b, y, 1, Math.min(h, HEIGHT - y));
      y += h;
    }
  }
  return c;
}

function blockView(m: BlockMap, ps: number): HTMLElement {
  const counts = KINDS.filter((k) => m.totals[k] > 0).map((k) => `${n(m.totals[k])} ${LABEL[k]}`);
  const never = m.distinct === null ? "" : `; ${n(m.pages - m.distinct)} never sent`;
  const head = el(
    "div",
    { class: "pm-head" },
    el("b", {}, m.name),
    ` ${n(m.length)} bytes, ${n(m.pages)} page${m.pages === 1 ? "" : "s"}`,
    el("span", { class: "muted" }, ` — ${counts.join(", ") || "no pages sent"}${never}${m.distinct !== null && m.distinct < m.totals.data + m.totals.zero + m.totals.compressed + m.totals.xbzrle + m.totals.mapped ? ` (${n(m.distinct)} distinct pages sent)` : ""}`),
  );
  const c = strip(m);
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", `page map of ${m.name}: ${head.textContent ?? ""}`);
  const tip = el("div", { class: "pm-tip mono muted" }, `1 column = ${n(m.per)} page${m.per === 1 ? "" : "s"}; point at the strip for details`);
  c.addEventListener("mousemove", (e) => {
    const r = c.getBoundingClientRect();
    const b = Math.min(c.width - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * c.width)));
    const first = b * m.per;
    const size = Math.min(m.per, m.pages - first);
    const what = KINDS.map((k, i) => [k, m.counts[b * KINDS.length + i]!] as const)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${n(v)} ${LABEL[k]}`);
    if (m.unsent && m.unsent[b]) what.push(`${n(m.unsent[b]!)} never sent`);
    tip.textContent = `${span({ firstPage: first, count: size }, ps)}: ${what.join(", ") || "nothing"}`;
  });
  const rows = (m.ranges ?? []).map((r) =>
    el("li", {}, ...(r.kinds.length ? r.kinds : ["never"]).map(swatch), `${r.kinds.length ? r.kinds.map((k) => LABEL[k]).join(", ") : LABEL.never} ${span(r, ps)} (${n(r.count)} page${r.count === 1 ? "" : "s"})`),
  );
  if (m.more) rows.push(el("li", { class: "muted" }, `… and ${n(m.more)} more ranges`));
  return el(
    "div",
    { class: "pm-block", "data-block": m.name },
    head,
    c,
    tip,
    m.ranges
      ? el(
          "details",
          { open: m.ranges.length <= 12 },
          el("summary", {}, `ranges by block offset (${n(m.ranges.length + m.more)}): pages carried the same ways`),
          el("ul", { class: "pm-ranges mono", "data-testid": "pm-ranges" }, ...rows),
        )
      : null,
  );
}

export function renderPageMap(box: HTMLElement, map: PageMap, fault?: string): void {
  const parts: Node[] = [legend()];
  parts.push(el("p", { class: "muted" }, `page size ${n(map.pageSize)} bytes; offsets are within each block; ${n(map.runs)} runs read`));
  if (fault) parts.push(el("p", { class: "invalid" }, `the stream faults at ${fault}: the map shows what was read before`));
  for (const note of map.notes) parts.push(el("p", { class: "muted" }, `note: ${note}`));
  for (const b of map.blocks) parts.push(blockView(b, map.pageSize));
  if (!map.blocks.length) parts.push(el("p", {}, "This stream lists no RAM blocks."));
  box.replaceChildren(...parts);
}
