import { el, hex } from "../dom.js";
import { type Located, labelOf, offsetOf } from "./locate.js";

/** Children are rendered when a node is first opened, and at most this many at a time. */
const PAGE = 500;

const isContainer = (v: unknown): v is object => typeof v === "object" && v !== null;

function scalarText(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 400 ? `${v.slice(0, 400)}…` : v);
  return String(v);
}

function summaryOf(key: string, v: object, at: { offset: number; length: number | undefined } | undefined): (string | HTMLElement)[] {
  const parts: (string | HTMLElement)[] = [el("span", { class: "k" }, key)];
  const label = labelOf(v);
  if (label && label !== key) parts.push(" ", el("span", { class: "name" }, label));
  if (at) {
    parts.push(" ", el("span", { class: "off" }, `@${hex(at.offset)}`));
    if (at.length !== undefined) parts.push(" ", el("span", { class: "len" }, `${at.length.toLocaleString("en-US")} B`));
  }
  const n = Array.isArray(v) ? v.length : Object.keys(v).length;
  parts.push(" ", el("span", { class: "count" }, Array.isArray(v) ? `[${n}]` : `{${n}}`));
  return parts;
}

/**
 * A collapsible tree of a JSON value. Objects that carry an offset are
 * selectable (the hex view follows); `reveal` opens the way to a path.
 */
export class TreeView {
  private nodes = new Map<string, HTMLDetailsElement>();
  private selected: HTMLElement | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly onSelect: (item: Located) => void,
  ) {}

  /**
   * Where a node without its own offset sits in the stream, when the view
   * knows (the device-state view maps "timer (0)" to the timer section).
   */
  private placeOf: ((key: string, path: string[]) => { offset: number; length: number | undefined } | undefined) | undefined;

  show(value: unknown, openFirst = true, placeOf?: TreeView["placeOf"]): void {
    this.placeOf = placeOf;
    this.nodes.clear();
    this.selected = undefined;
    this.root.replaceChildren();
    if (!isContainer(value)) {
      this.root.append(el("div", { class: "leaf" }, scalarText(value)));
      return;
    }
    const box = el("div", { class: "children" });
    this.fill(box, value, []);
    this.root.append(box);
    if (openFirst) {
      // Open the first non-empty list (records, sections): it is what people look for first.
      for (const [k, v] of Object.entries(value)) {
        if (Array.isArray(v) && v.length > 0) {
          this.open([k]);
          break;
        }
      }
    }
  }

  /** Open every node on the way to `path` and select it. */
  reveal(path: string[], mark?: string): HTMLElement | undefined {
    let d: HTMLDetailsElement | undefined;
    for (let i = 1; i <= path.length; i++) d = this.open(path.slice(0, i));
    if (!d) return undefined;
    const s = d.querySelector(":scope > summary") as HTMLElement;
    if (mark) s.classList.add(mark);
    this.select(s);
    s.scrollIntoView({ block: "nearest" });
    return s;
  }

  private open(path: string[]): HTMLDetailsElement | undefined {
    let d = this.nodes.get(path.join("\u0000"));
    if (!d) {
      // It may sit beyond the first page of its parent: render pages until it appears.
      const parent = path.length > 1 ? this.nodes.get(path.slice(0, -1).join("\u0000")) : undefined;
      const moreOf = () => parent?.querySelector(":scope > .children > button.more") as HTMLButtonElement | null | undefined;
      for (let more = moreOf(), guard = 0; more && !d && guard < 10_000; more = moreOf(), guard++) {
        more.click();
        d = this.nodes.get(path.join("\u0000"));
      }
      if (!d) return undefined;
    }
    d.open = true;
    d.dispatchEvent(new Event("toggle"));
    return d;
  }

  private select(s: HTMLElement): void {
    this.selected?.classList.remove("selected");
    s.classList.add("selected");
    this.selected = s;
  }

  private node(key: string, v: unknown, path: string[]): HTMLElement {
    if (!isContainer(v)) return el("div", { class: "leaf" }, el("span", { class: "k" }, key), ": ", el("span", { class: `v ${typeof v}` }, scalarText(v)));
    const at = offsetOf(v) ?? this.placeOf?.(key, path);
    const s = el("summary", {}, ...summaryOf(key, v, at));
    const box = el("div", { class: "children" });
    const d = el("details", {}, s, box);
    this.nodes.set(path.join("\u0000"), d);
    let filled = false;
    d.addEventListener("toggle", () => {
      if (d.open && !filled) {
        filled = true;
        this.fill(box, v, path);
      }
    });
    if (at) {
      s.classList.add("located");
      s.addEventListener("click", () => {
        this.select(s);
        this.onSelect({ path, ...at, label: labelOf(v) || key });
      });
    }
    return d;
  }

  private fill(box: HTMLElement, v: object, path: string[]): void {
    const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
    let shown = 0;
    const page = () => {
      const end = Math.min(entries.length, shown + PAGE);
      for (; shown < end; shown++) {
        const [k, x] = entries[shown]!;
        box.append(this.node(Array.isArray(v) ? `[${k}]` : k, x, [...path, k]));
      }
      if (shown < entries.length) {
        const more = el("button", { class: "more", type: "button" }, `show ${Math.min(PAGE, entries.length - shown)} more of ${entries.length - shown}`);
        more.addEventListener("click", () => {
          more.remove();
          page();
        });
        box.append(more);
      }
    };
    page();
  }
}
