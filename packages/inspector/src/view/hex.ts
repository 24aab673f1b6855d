import { el, hex } from "../dom.js";

/** Bytes shown at once: small enough to slice from a 1 GiB file instantly. */
const WINDOW = 512;
const ROW = 16;

export interface Mark {
  start: number;
  end: number;
}

/**
 * A hex dump of a window of the file, read with `File.slice` (no whole-file
 * read). The selected item's bytes are highlighted, the fault byte in red.
 */
export class HexView {
  private file: File | undefined;
  private base = 0;
  private selection: Mark | undefined;
  private fault: number | undefined;
  private seq = 0;

  constructor(private readonly root: HTMLElement) {}

  setFile(file: File | undefined): void {
    this.file = file;
    this.base = 0;
    this.selection = undefined;
    this.fault = undefined;
    void this.render();
  }

  setFault(offset: number | undefined): void {
    this.fault = offset;
  }

  /** Show the window around `offset`, highlighting `selection`. */
  show(offset: number, selection?: Mark): void {
    this.selection = selection;
    this.base = Math.max(0, Math.floor(offset / ROW) * ROW - (offset >= ROW * 2 ? ROW * 2 : 0));
    void this.render();
  }

  private async render(): Promise<void> {
    const seq = ++this.seq;
    const f = this.file;
    if (!f) {
      this.root.replaceChildren(el("p", { class: "muted" }, "Select a record or section to see its bytes."));
      return;
    }
    const end = Math.min(f.size, this.base + WINDOW);
    const data = new Uint8Array(await f.slice(this.base, end).arrayBuffer());
    if (seq !== this.seq) return; // a newer request won
    const nav = el(
      "div",
      { class: "hexnav" },
      this.button("◀", this.base > 0, () => this.move(-WINDOW)),
      " ",
      el("span", {}, `${hex(this.base)} – ${hex(Math.max(this.base, end - 1))} of ${f.size.toLocaleString("en-US")} bytes`),
      " ",
      this.button("▶", end < f.size, () => this.move(WINDOW)),
    );
    const sel = this.selection;
    const rows = el("div", { class: "hexrows", "data-testid": "hex" });
    for (let r = 0; r < data.byteLength; r += ROW) {
      const hexCells = el("span", { class: "hx" });
      const ascii = el("span", { class: "asc" });
      for (let i = 0; i < ROW; i++) {
        const at = this.base + r + i;
        const b = data[r + i];
        let cls = "";
        if (sel && at >= sel.start && at < sel.end) cls = "sel";
        if (this.fault !== undefined && at === this.fault) cls = "fault";
        const h = b === undefined ? "  " : b.toString(16).padStart(2, "0");
        const c = b === undefined ? " " : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·";
        hexCells.append(el("span", { class: cls || undefined }, h), i === 7 ? "  " : " ");
        ascii.append(el("span", { class: cls || undefined }, c));
      }
      rows.append(el("div", { class: "hexrow" }, el("span", { class: "ho" }, hex(this.base + r, 8)), "  ", hexCells, " ", ascii));
    }
    if (this.fault !== undefined && this.fault >= f.size && end === f.size) {
      rows.append(el("div", { class: "hexrow eof fault-line" }, `⟂ end of file at ${hex(f.size)}: the fault is here (bytes missing)`));
    }
    this.root.replaceChildren(nav, rows);
  }

  private move(by: number): void {
    if (!this.file) return;
    this.base = Math.max(0, Math.min(this.base + by, Math.max(0, this.file.size - 1)));
    this.base -= this.base % ROW;
    void this.render();
  }

  private button(label: string, enabled: boolean, fn: () => void): HTMLButtonElement {
    const b = el("button", { type: "button", disabled: !enabled }, label);
    b.addEventListener("click", fn);
    return b;
  }
}
