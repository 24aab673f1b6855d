import { families } from "@vmstream/wire-spec";
import bundledMatrix from "virtual:bundled-matrix";
import { blobBytes, innerBytes, innerLabel } from "./container.js";
import { byId, bytes, el, hex } from "./dom.js";
import type { ContainerInfo, Fault, Inner, Reply, Task } from "./protocol.js";
import { renderDiff } from "./view/diff.js";
import { contentsLine, guestLine } from "./view/headline.js";
import { HexView } from "./view/hex.js";
import { type Located, holderOf, locateAll } from "./view/locate.js";
import { parseCells, renderMatrix } from "./view/matrix.js";
import { renderPageMap } from "./view/page-map.js";
import { TreeView } from "./view/tree.js";
import ParseWorker from "./worker.ts?worker&inline";
import "./style.css";

/** The lossless JSON view is for small streams: it holds the whole document as text. */
const DECODE_MAX_FILE = 64 << 20;
const DECODE_MAX_TEXT = 16 << 20;

interface State {
  file: File;
  /** The container the file is (qcow2 image, libvirt save image), and the stream inside it on show. */
  container?: ContainerInfo;
  inner?: Inner;
  /** The hex view shows the container file (after a fault of its own), not the stream inside. */
  hexOnFile?: boolean;
  format?: string;
  located: Located[];
  fault?: Fault;
  views: Partial<Record<"summary" | "analyze" | "decode", unknown>>;
  /** `--format`: skip detection (for streams whose header cannot tell). */
  forced?: { format?: string };
}

let state: State | undefined;
let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, (r: Reply) => void>();
/** What the progress line says for each running task ("inspecting", "verifying"…). */
const labels = new Map<number, string>();

const hexView = new HexView(byId("hex"));
const tree = new TreeView(byId("tree"), (item) => select(item));

/** Run one task in the worker; replies other than progress resolve it. */
function runTask(task: Task, file: File, label: string, extra: { format?: string; limit?: number; other?: File; inner?: Inner } = {}): Promise<Reply> {
  if (!worker) {
    worker = new ParseWorker();
    worker.onmessage = (ev: MessageEvent<Reply>) => {
      const r = ev.data;
      if (r.kind === "progress") return showProgress(r.label ?? labels.get(r.id) ?? "reading", r.offset, r.size);
      if (r.kind === "detected") return pending.get(r.id)?.(r);
      const done = pending.get(r.id);
      pending.delete(r.id);
      done?.(r);
    };
    // A worker that cannot start or crashes must not leave the page waiting forever.
    worker.onerror = (ev) => {
      ev.preventDefault();
      const message = `the parsing worker failed: ${ev.message || "it could not start"}`;
      for (const done of pending.values()) done({ id: 0, kind: "error", message });
      pending.clear();
      hideProgress();
      worker?.terminate();
      worker = undefined; // the next task starts a fresh one
    };
  }
  const id = nextId++;
  labels.set(id, label);
  showProgress(label, 0, file.size);
  return new Promise((resolve) => {
    pending.set(id, (r) => {
      if (r.kind === "detected") return onDetected(r.format, r.title);
      labels.delete(id);
      hideProgress();
      resolve(r);
    });
    worker!.postMessage({ id, task, file, ...extra });
  });
}

function showProgress(label: string, offset: number, size: number): void {
  const p = byId("progress");
  p.hidden = false;
  const bar = p.querySelector("progress")!;
  bar.value = size ? offset / size : 0;
  // A compressed stream inside a save image has no size until it is read: count bytes instead.
  p.querySelector("span")!.textContent = size ? `${label}… ${Math.floor((100 * offset) / size)}%` : `${label}… ${offset.toLocaleString("en-US")} bytes`;
}

const hideProgress = () => {
  byId("progress").hidden = true;
};

function onDetected(format: string, title: string): void {
  if (!state || state.format) return;
  state.format = format;
  byId("format").textContent = format;
  byId("format-title").textContent = title;
  byId("view-analyze").hidden = !format.startsWith("qemu@");
  byId("pagemap-box").hidden = !format.startsWith("qemu@");
}

function showHeadline(json: unknown): void {
  byId("guest").textContent = guestLine(json) || "—";
  byId("contents").textContent = contentsLine(json) || "—";
}

function select(clicked: Located): void {
  // The located list knows lengths the item itself does not say (up to its next sibling).
  const key = clicked.path.join("\u0000");
  const known = clicked.length === undefined ? state?.located.find((x) => x.path.join("\u0000") === key) : undefined;
  const item = known ?? clicked;
  if (state?.hexOnFile && state.container && state.inner) {
    state.hexOnFile = false; // tree items are at stream offsets
    hexView.setFile(innerBytes(state.file, state.container, state.inner));
  }
  byId("hex-title").textContent = `${item.label} at ${hex(item.offset)}${item.length !== undefined ? `, ${item.length.toLocaleString("en-US")} bytes` : ""}`;
  hexView.show(item.offset, { start: item.offset, end: item.offset + (item.length ?? 1) });
}

function showFault(f: Fault, where: "verify" | "inspect"): void {
  if (!state) return;
  state.fault = f;
  hexView.setFault(f.offset);
  const holder = holderOf(state.located, f.offset);
  if (holder) tree.reveal(holder.path, "fault");
  const inside = holder?.length !== undefined && f.offset < holder.offset + Math.max(holder.length, 1);
  byId("hex-title").textContent = `first fault at ${hex(f.offset)}${holder ? ` (${inside ? "in" : "after"} ${holder.label})` : ""}`;
  hexView.show(f.offset, { start: f.offset, end: f.offset + 1 });
  const text = byId("text");
  if (where === "inspect" && !(text.textContent ?? "").includes(f.message)) {
    text.textContent += `\nfirst fault  offset ${f.offset} (${hex(f.offset)}): ${f.message}`;
  }
}

function setVerify(kind: "valid" | "invalid" | "error" | "pending", ...text: (string | Node)[]): void {
  const v = byId("verify");
  v.className = kind;
  v.replaceChildren(...text);
}

/** A new file (or pair) cancels whatever the worker was doing for the previous one. */
function cancel(): void {
  worker?.terminate();
  worker = undefined;
  for (const done of pending.values()) done({ id: 0, kind: "error", message: "cancelled" });
  pending.clear();
}

/** What a task reads: the file, or the stream inside the container (and --format when forced). */
const taskInput = (s: State) => ({ ...s.forced, ...(s.inner ? { inner: s.inner } : {}) });

/** The name error lines give the stream: the file, or `disk.qcow2 [snapshot 1 snap-a]`. */
const streamLabel = (s: State) => (s.container && s.inner ? innerLabel(s.file.name, s.container, s.inner) : s.file.name);

async function openFile(file: File): Promise<void> {
  cancel();
  state = { file, located: [], views: {} };
  const mine = state;
  byId("intro").hidden = true;
  byId("diff-view").hidden = true;
  byId("container-box").hidden = true;
  byId("container-body").replaceChildren();
  byId("container-title").textContent = "";
  byId("file-name").textContent = file.name;
  byId("file-size").textContent = bytes(file.size);
  resetStreamView();
  hexView.setFile(blobBytes(file));

  // A qcow2 image or a libvirt save image is shown first; then the stream inside it.
  const c = await runTask("container", file, "reading the container");
  if (state !== mine) return;
  if (c.kind === "fault") return containerFault(mine, c.format ?? "unknown", c.fault);
  if (c.kind === "error") {
    if (c.message !== "cancelled") setVerify("error", `could not read the file: ${c.message}`);
    return;
  }
  const info = c.kind === "container" ? c.container : null;
  if (!info) return openStream(mine);
  mine.container = info;
  showContainer(mine, info);
  if (info.refused) {
    byId("format").textContent = info.format;
    tree.show({ note: info.refused });
    setVerify("error", info.refused);
    return;
  }
  if (info.kind === "libvirt-save") return openInner(mine, { kind: "libvirt-save" });
  const withState = (info.snapshots ?? []).filter((x) => x.vmStateSize > 0);
  if (withState.length === 1) return openInner(mine, { kind: "qcow2", snapshot: withState[0]!.id });
  byId("format").textContent = info.format;
  const why = withState.length === 0 ? `no snapshot of this image holds a VM state (${info.snapshots?.length ?? 0} snapshots)` : `${withState.length} snapshots hold a VM state: pick one above`;
  tree.show({ note: why });
  setVerify(withState.length === 0 ? "error" : "pending", why);
}

/** The stream panes emptied, for a new file or another snapshot of the same image. */
function resetStreamView(): void {
  byId("summary").hidden = false;
  byId("panes").hidden = false;
  resetPageMap();
  byId("format").textContent = "detecting…";
  byId("format-title").textContent = "";
  showHeadline(undefined);
  byId("text").textContent = "";
  byId("tree").replaceChildren();
  delete byId("tree").dataset.view;
  selectView("summary");
  setVerify("pending", "…");
  byId("hex-title").textContent = "";
}

/** Show the stream inside the container: a snapshot's VM state, or the save image's stream. */
function openInner(from: State, inner: Inner): Promise<void> {
  cancel();
  state = { file: from.file, located: [], views: {}, ...(from.container ? { container: from.container } : {}), inner };
  resetStreamView();
  if (from.container) {
    hexView.setFile(innerBytes(from.file, from.container, inner));
    markSnapshot(inner);
  }
  return openStream(state);
}

/**
 * A fault of the container itself (its header or tables, or met while its
 * stream was read): the line the CLI prints, and the file's bytes at the
 * offset in the file.
 */
function containerFault(s: State, format: string, f: Fault): void {
  if (!s.inner) {
    byId("format").textContent = format;
    tree.show({ note: "The container could not be read; see its bytes on the right." });
  }
  const line = `${s.file.name}: ${format}: offset ${f.offset}: ${f.message}`;
  setVerify("invalid", `✘ invalid at offset ${f.offset} (${hex(f.offset)}) `, el("div", { class: "mono line", "data-testid": "fault-line" }, line));
  s.fault = f;
  s.hexOnFile = true;
  hexView.setFile(blobBytes(s.file));
  hexView.setFault(f.offset);
  byId("hex-title").textContent = `fault in the ${s.container?.kind ?? "file"} at ${hex(f.offset)} (an offset in the file)`;
  hexView.show(f.offset, { start: f.offset, end: f.offset + 1 });
}

function showContainer(s: State, info: ContainerInfo): void {
  byId("container-box").hidden = false;
  byId("container-title").textContent = `${s.file.name}: ${info.title}`;
  const body = byId("container-body");
  const parts: Node[] = [];
  if (info.lines.length) parts.push(el("dl", {}, ...info.lines.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)])));
  if (info.snapshots) {
    const head = el("tr", {}, ...["id", "name", "date", "VM clock", "VM state", "icount", "VM state at", ""].map((h) => el("th", {}, h)));
    const rows = info.snapshots.map((x) => {
      const show = x.vmStateSize > 0 ? el("button", { type: "button", "data-testid": `snapshot-${x.id}` }, "show its VM state") : el("span", { class: "muted" }, "disk only");
      show.addEventListener("click", () => {
        if (state?.file === s.file) void openInner(state, { kind: "qcow2", snapshot: x.id });
      });
      const state_ = x.vmStateSize > 0 ? `${x.vmStateSize.toLocaleString("en-US")} B` : "none";
      return el("tr", { "data-snapshot": x.id }, ...[x.id, x.name, x.date, x.clock, state_, x.icount, x.vmStateSize ? hex(x.vmStateOffset) : "-"].map((c) => el("td", {}, c)), el("td", {}, show));
    });
    parts.push(info.snapshots.length ? el("table", { "data-testid": "snapshots" }, head, ...rows) : el("p", { class: "muted" }, "no internal snapshots"));
  }
  if (info.xml !== undefined) parts.push(el("details", {}, el("summary", {}, "domain XML"), el("pre", { "data-testid": "container-xml" }, info.xml)));
  if (info.cookie !== undefined) parts.push(el("details", {}, el("summary", {}, "cookie XML"), el("pre", {}, info.cookie)));
  if (info.refused) parts.push(el("p", { class: "invalid", "data-testid": "container-refused" }, info.refused));
  body.replaceChildren(...parts);
}

function markSnapshot(inner: Inner): void {
  for (const tr of byId("container-body").querySelectorAll("tr[data-snapshot]")) {
    tr.classList.toggle("current", inner.kind === "qcow2" && tr.getAttribute("data-snapshot") === inner.snapshot);
  }
}

/** Inspect, then verify, the stream: the file itself or the one inside its container. */
async function openStream(mine: State): Promise<void> {
  const file = mine.file;
  const forced = formatSelect.value ? { format: formatSelect.value } : {};
  mine.forced = forced;
  const ins = await runTask("inspect", file, "inspecting", taskInput(mine));
  if (state !== mine) return;
  if (ins.kind === "inspected") {
    mine.views.summary = ins.json;
    mine.located = locateAll(ins.json);
    tree.show(ins.json);
    byId("tree").dataset.view = "summary";
    showHeadline(ins.json);
    byId("text").textContent = ins.text;
  } else if (ins.kind === "fault") {
    if (!mine.format) byId("format").textContent = ins.format ?? "unknown";
    if (ins.partial) {
      mine.views.summary = ins.partial.json;
      mine.located = locateAll(ins.partial.json);
      tree.show(ins.partial.json);
      showHeadline(ins.partial.json);
      byId("text").textContent = ins.partial.text;
    } else {
      tree.show({ note: "The codec could not show anything before the fault; see the bytes on the right." });
    }
    byId("tree").dataset.view = "summary";
    // The container's own fault (a file offset) is shown once verify meets it too.
    if (!ins.fault.inContainer) showFault(ins.fault, "inspect");
  } else if (ins.kind === "error") {
    if (ins.message === "cancelled") return;
    byId("format").textContent = mine.format ?? "unknown";
    tree.show({ error: ins.message });
  }

  const ver = await runTask("verify", file, "verifying", taskInput(mine));
  if (state !== mine) return;
  if (ver.kind === "verified") {
    setVerify("valid", `✔ valid — ${ver.items.toLocaleString("en-US")} records, ${ver.bytes.toLocaleString("en-US")} bytes`, ...ver.notes.map((n) => el("div", { class: "note" }, `note: ${n}`)));
  } else if (ver.kind === "fault" && ver.fault.inContainer && mine.container) {
    containerFault(mine, mine.container.format, ver.fault);
  } else if (ver.kind === "fault") {
    const line = `${streamLabel(mine)}: ${ver.format ?? mine.format ?? "unknown"}: offset ${ver.fault.offset}: ${ver.fault.message}`;
    const jump = el("button", { type: "button" }, "show the bytes");
    jump.addEventListener("click", () => showFault(ver.fault, "verify"));
    setVerify("invalid", `✘ invalid at offset ${ver.fault.offset} (${hex(ver.fault.offset)}) `, jump, el("div", { class: "mono line", "data-testid": "fault-line" }, line));
    if (!mine.fault || mine.fault.offset !== ver.fault.offset) showFault(ver.fault, "verify");
  } else if (ver.kind === "error" && ver.message !== "cancelled") {
    setVerify("error", `could not verify: ${ver.message}`);
  }
}

type View = "summary" | "analyze" | "decode";

/**
 * The device-state view (analyze-migration's JSON) names devices "idstr (section id)"
 * without offsets; the summary's sections give them one, so a click still shows the bytes.
 */
function placeFor(v: View, s: State): ((key: string, path: string[]) => { offset: number; length: number | undefined } | undefined) | undefined {
  if (v !== "analyze") return undefined;
  const sections = (s.views.summary as { sections?: unknown } | undefined)?.sections;
  if (!Array.isArray(sections)) return undefined;
  const byName = new Map<string, { offset: number; length: number | undefined }>();
  for (const x of sections as { idstr?: unknown; id?: unknown; offset?: unknown; size?: unknown }[]) {
    if (typeof x.idstr !== "string" || typeof x.id !== "number" || typeof x.offset !== "number") continue;
    const key = `${x.idstr} (${x.id})`; // analyze-migration names a device by idstr and section id
    // A section split into start/part/end (RAM) is shown from its first piece.
    if (!byName.has(key)) byName.set(key, { offset: x.offset, length: typeof x.size === "number" ? x.size : undefined });
  }
  return (key, path) => (path.length === 1 ? byName.get(key) : undefined);
}

/** Bytes of the stream shown: the file's, a snapshot's VM state, or a save image's (compressed) stream. */
function streamSize(s: State): number {
  if (!s.container || !s.inner) return s.file.size;
  const inner = s.inner;
  if (inner.kind === "qcow2") return s.container.snapshots?.find((x) => x.id === inner.snapshot)?.vmStateSize ?? s.file.size;
  return s.file.size - (s.container.streamOffset ?? 0);
}

function selectView(v: View): void {
  for (const x of ["summary", "analyze", "decode"] as const) byId(`view-${x}`).setAttribute("aria-selected", String(x === v));
}

async function showView(v: View): Promise<void> {
  const s = state;
  if (!s) return;
  selectView(v);
  if (s.views[v] !== undefined) {
    tree.show(s.views[v], true, placeFor(v, s));
    byId("tree").dataset.view = v;
    return;
  }
  if (v === "decode" && streamSize(s) > DECODE_MAX_FILE) {
    tree.show({ note: `The lossless JSON view is for streams up to ${bytes(DECODE_MAX_FILE)}; use 'vmstream decode' for this one.` });
    return;
  }
  const r = await runTask(v === "analyze" ? "analyze" : "decode", s.file, v === "analyze" ? "reading device state" : "decoding", { ...taskInput(s), limit: DECODE_MAX_TEXT });
  if (state !== s) return;
  let value: unknown;
  if (r.kind === "inspected") value = r.json;
  else if (r.kind === "decoded") {
    value = r.truncated ? { note: `first ${bytes(r.text.length)} of the document only`, text: r.text } : JSON.parse(r.text);
  } else if (r.kind === "fault") value = { fault: `offset ${r.fault.offset}: ${r.fault.message}` };
  else value = { error: r.kind === "error" ? r.message : "unexpected reply" };
  s.views[v] = value;
  tree.show(value, true, placeFor(v, s));
  byId("tree").dataset.view = v; // what the tree shows now (the e2e test waits on it)
}

// ---- wiring ----

/** Like the CLI's --format: every family@version of the wire spec; changing it re-reads the open file. */
const formatSelect = byId<HTMLSelectElement>("format-select");
for (const f of families) for (const v of f.versions) formatSelect.append(el("option", { value: `${f.name}@${v.version}` }, `${f.name}@${v.version}`));
formatSelect.addEventListener("change", () => {
  if (state?.container && state.inner) void openInner(state, state.inner);
  else if (state) void openFile(state.file);
  else if (lastDiff && !byId("diff-view").hidden) void openDiff(...lastDiff);
});

/** Two files (picked together or dropped together) are compared; one is opened. */
function openFiles(files: FileList | null | undefined): void {
  if (!files?.length) return;
  if (files.length >= 2) void openDiff(files[0]!, files[1]!);
  else void openFile(files[0]!);
}

const input = byId<HTMLInputElement>("file");
input.addEventListener("change", () => openFiles(input.files));
const inputB = byId<HTMLInputElement>("file-b");
inputB.addEventListener("change", () => {
  const b = inputB.files?.[0];
  const a = state?.file ?? lastDiff?.[0];
  if (b && a) void openDiff(a, b);
  else if (b) void openFile(b); // nothing open to compare with: just open it
  inputB.value = ""; // picking the same file again compares again
});
for (const v of ["summary", "analyze", "decode"] as const) byId(`view-${v}`).addEventListener("click", () => void showView(v));

document.addEventListener("dragover", (e) => {
  e.preventDefault();
  document.body.classList.add("dragging");
});
document.addEventListener("dragleave", () => document.body.classList.remove("dragging"));
document.addEventListener("drop", (e) => {
  e.preventDefault();
  document.body.classList.remove("dragging");
  const files = e.dataTransfer?.files;
  const f = files?.[0];
  if (!f) return;
  if (!byId("matrix-view").hidden) void openMatrix(f);
  else openFiles(files);
});

function tab(which: "stream" | "matrix"): void {
  byId("stream-view").hidden = which !== "stream";
  byId("matrix-view").hidden = which !== "matrix";
  byId("tab-stream").setAttribute("aria-selected", String(which === "stream"));
  byId("tab-matrix").setAttribute("aria-selected", String(which === "matrix"));
}
byId("tab-stream").addEventListener("click", () => tab("stream"));
byId("tab-matrix").addEventListener("click", () => tab("matrix"));

function showMatrix(text: string, source: string): void {
  const box = byId("matrix");
  try {
    renderMatrix(box, parseCells(JSON.parse(text)), source);
  } catch (e) {
    box.replaceChildren(el("p", { class: "invalid", "data-testid": "matrix-summary" }, `${source}: not a matrix.json: ${(e as Error).message}`));
  }
}

async function openMatrix(f: File): Promise<void> {
  showMatrix(await f.text(), f.name);
}
const matrixInput = byId<HTMLInputElement>("matrix-file");
matrixInput.addEventListener("change", () => {
  const f = matrixInput.files?.[0];
  if (f) void openMatrix(f);
});

if (bundledMatrix !== null) showMatrix(bundledMatrix, "compat/out/matrix.json (bundled at build time)");
else byId("matrix").replaceChildren(el("p", { class: "muted" }, "No matrix was bundled with this build (run `npm run compat` before building); open a matrix.json instead."));

// ---- diff of two streams (vmstream diff) ----

let lastDiff: [File, File] | undefined;

async function openDiff(a: File, b: File): Promise<void> {
  cancel();
  state = undefined;
  lastDiff = [a, b];
  const mine = lastDiff;
  for (const id of ["intro", "summary", "panes", "pagemap-box"]) byId(id).hidden = true;
  byId("diff-view").hidden = false;
  byId("diff-title").textContent = `${a.name} ↔ ${b.name}`;
  const box = byId("diff");
  box.replaceChildren(el("p", { class: "muted" }, "comparing…"));
  delete box.dataset.done;
  const r = await runTask("diff", a, "comparing", { ...(formatSelect.value ? { format: formatSelect.value } : {}), other: b });
  if (lastDiff !== mine || state) return;
  if (r.kind === "diffed") renderDiff(box, r.diff);
  else if (r.kind === "fault") box.replaceChildren(el("p", { class: "invalid", "data-testid": "diff-verdict" }, `cannot compare: offset ${r.fault.offset} (${hex(r.fault.offset)}): ${r.fault.message}`));
  else if (r.kind === "error" && r.message === "cancelled") return;
  else box.replaceChildren(el("p", { class: "invalid", "data-testid": "diff-verdict" }, `cannot compare: ${r.kind === "error" ? r.message : "unexpected reply"}`));
  box.dataset.done = "1"; // the e2e test waits on it
}

// ---- page map of guest memory ----

function resetPageMap(): void {
  byId("pagemap-box").hidden = true;
  byId("pagemap-run").hidden = false;
  const box = byId("pagemap");
  box.replaceChildren();
  delete box.dataset.done;
}

async function showPageMap(): Promise<void> {
  const s = state;
  if (!s) return;
  byId("pagemap-run").hidden = true;
  const box = byId("pagemap");
  box.replaceChildren(el("p", { class: "muted" }, "reading every RAM record…"));
  const r = await runTask("pagemap", s.file, "mapping pages", taskInput(s));
  if (state !== s) return;
  if (r.kind === "pagemap") renderPageMap(box, r.map, r.fault ? `offset ${r.fault.offset} (${hex(r.fault.offset)}): ${r.fault.message}` : undefined);
  else if (r.kind === "fault") box.replaceChildren(el("p", { class: "invalid" }, `offset ${r.fault.offset}: ${r.fault.message}`));
  else if (r.kind === "error" && r.message === "cancelled") return;
  else box.replaceChildren(el("p", { class: "invalid" }, r.kind === "error" ? r.message : "unexpected reply"));
  box.dataset.done = "1";
}
byId("pagemap-run").addEventListener("click", () => void showPageMap());
