import type { HexBytes } from "../container.js";
import { el, hex } from "../dom.js";

/** Bytes shown at once: small enough to slice from a 1 GiB file instantly. */
const WINDOW = 512;
const ROW = 16;

export interface Mark {
  start: number;
  end: number;
}

/**
 * A hex dump of a window of the stream, read a window at a time (`File.slice`
 * for a file, the container's own reads for the stream inside one; never the
 * whole file). The selected item's bytes are highlighted, the fault byte in red.
 */
export class HexView {
  private file: HexBytes | undefined;
  private base = 0;
  private selection: Mark | undefined;
  private fault: number | undefined;
  private seq = 0;

  constructor(private readonly root: HTMLElement) {}

  setFile(file: HexBytes | undefined): void {
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
    let data: Uint8Array;
    try {
      data = await f.read(this.base, f.size === undefined ? this.base + WINDOW : Math.min(f.size, this.base + WINDOW));
    } catch (e) {
      // A container's own fault met on the way (a cut gzip stream): shown, not thrown.
      if (seq === this.seq) this.root.replaceChildren(el("p", { class: "invalid" }, `cannot show these bytes: ${(e as Error)?.message ?? e}`));
      return;
    }
    if (seq !== this.seq) return; // a newer request won
    const end = this.base + data.byteLength;
    // A compressed stream's size is known once a window comes back short.
    const size = f.size ?? (data.byteLength < WINDOW ? end : undefined);
    const nav = el(
      "div",
      { class: "hexnav" },
      this.button("◀", this.base > 0, () => this.move(-WINDOW)),
      " ",
      el("span", {}, `${hex(this.base)} – ${hex(Math.max(this.base, end - 1))} of ${size === undefined ? "?" : size.toLocaleString("en-US")} bytes`),
      " ",
      this.button("▶", size === undefined || end < size, () => this.move(WINDOW)),
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
    if (this.fault !== undefined && size !== undefined && this.fault >= size && end === size) {
      rows.append(el("div", { class: "hexrow eof fault-line" }, `⟂ end of file at ${hex(size)}: the fault is here (bytes missing)`));
    }
    this.root.replaceChildren(nav, rows);
  }

  private move(by: number): void {
    if (!this.file) return;
    const last = this.file.size === undefined ? Number.MAX_SAFE_INTEGER : Math.max(0, this.file.size - 1);
    this.base = Math.max(0, Math.min(this.base + by, last));
    this.base -= this.base % ROW;
    void this.render();
  }

  private button(label: string, enabled: boolean, fn: () => void): HTMLButtonElement {
    const b = el("button", { type: "button", disabled: !enabled }, label);
    b.addEventListener("click", fn);
    return b;
  }
}
