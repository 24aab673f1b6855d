/** Formatting of bench results: a plain table for the terminal, Markdown for docs/performance.md. */
import { NOT_INSTALLED } from "./peers.mjs";

const mib = (kib) => (kib / 1024).toFixed(0);
const secs = (s) => s.toFixed(3);

/** One row's cells and verdict. */
export function evaluate(r, limits) {
  const cells = {
    what: r.name,
    input: r.input.label,
    ours: r.ours.ok ? secs(r.ours.seconds) : "failed",
    cpu: r.ours.ok && r.ours.cpu != null && (r.kind !== "throughput" || r.target.reference) ? r.ours.cpu.toFixed(2) : "",
    rate: r.ours.ok && r.input.label !== "no input" ? `${(r.bytes / r.ours.seconds / 1e6).toFixed(0)} MB/s` : "",
    rss: r.ours.ok ? mib(r.ours.rssKiB) : "",
    peer: r.kind === "ratio" ? (r.peerName ?? "") : "",
    peerTime: "",
    peerCpu: "",
    ratio: "",
    cpuRatio: "",
    target: "",
    verdict: "",
  };
  const problems = [];
  if (!r.ours.ok) {
    cells.verdict = `vmstream failed: ${r.ours.error}`;
    return cells;
  }
  if (r.target.reference) {
    cells.target = "reference";
    cells.verdict = "–";
    return cells;
  }
  if (r.kind === "ratio") {
    cells.target = `≤ ${r.target.ratio}×`;
    if (!r.peer) {
      cells.peerTime = NOT_INSTALLED;
      cells.ratio = "–";
    } else if (!r.peer.ok) {
      cells.peerTime = `failed: ${r.peer.error}`;
    } else {
      cells.peerTime = secs(r.peer.seconds);
      if (r.peer.cpu != null) cells.peerCpu = r.peer.cpu.toFixed(2);
      const ratio = r.ours.seconds / r.peer.seconds;
      cells.ratio = `${ratio.toFixed(2)}×`;
      if (r.ours.cpu != null && r.peer.cpu) cells.cpuRatio = `${(r.ours.cpu / r.peer.cpu).toFixed(2)}×`;
      if (ratio > r.target.ratio) problems.push(`ratio ${ratio.toFixed(2)} > ${r.target.ratio}`);
    }
  } else if (r.target.gbps) {
    cells.target = `≥ ${r.target.gbps} GB/s`;
    const gbps = r.bytes / r.ours.seconds / limits.GBps;
    if (gbps < r.target.gbps) problems.push(`${gbps.toFixed(2)} GB/s < ${r.target.gbps}`);
  }
  cells.target += `${cells.target ? ", " : ""}RSS ≤ ${limits.rssMiB} MiB`;
  if (r.ours.rssKiB / 1024 > limits.rssMiB) problems.push(`RSS ${mib(r.ours.rssKiB)} MiB > ${limits.rssMiB}`);
  const ratioUnknown = r.kind === "ratio" && !r.peer?.ok;
  cells.verdict = problems.length ? `NOT met: ${problems.join("; ")}` : ratioUnknown ? "RSS met; ratio not measured" : "met";
  return cells;
}

const HEAD = ["measurement", "input", "vmstream s", "CPU s", "throughput", "peak RSS MiB", "peer", "peer s", "peer CPU s", "ratio", "CPU ratio", "target", "verdict"];
const KEYS = ["what", "input", "ours", "cpu", "rate", "rss", "peer", "peerTime", "peerCpu", "ratio", "cpuRatio", "target", "verdict"];

export function renderTable(rows, limits) {
  const data = [HEAD, ...rows.map((r) => KEYS.map((k) => evaluate(r, limits)[k]))];
  const widths = HEAD.map((_, i) => Math.max(...data.map((d) => String(d[i]).length)));
  return data.map((d) => d.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function renderMarkdown(rows, machine, notes, limits) {
  const esc = (s) => String(s).replace(/\|/g, "\\|");
  const lines = [
    "# Performance",
    "",
    "Written by `npm run bench` (scripts/bench/run.mjs); do not edit by hand — rerun it.",
    "Inputs are generated on the fly into a temporary directory and deleted afterwards;",
    "times are wall-clock seconds for the whole command (Node start-up included), best of",
    `${machine.runs} attempts on a shared machine; peak RSS is the largest of the attempts (${machine.rss}).`,
    "Ratios are vmstream time / peer time, measured in the same run; verdicts use wall-clock ratios.",
    "CPU s is user + system time of the whole command (GNU time); on a loaded machine the CPU ratio",
    "is the steadier comparison, so it is shown beside the wall-clock one.",
    "",
    "## Machine",
    "",
    `- date: ${machine.date}`,
    `- nproc: ${machine.nproc}`,
    `- CPU: ${machine.cpu}`,
    `- memory: ${machine.memory}`,
    `- Node: ${machine.node}`,
    `- load average: ${machine.load}`,
    ...Object.entries(machine.peers).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "## Results",
    "",
    `| ${HEAD.join(" | ")} |`,
    `| ${HEAD.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${KEYS.map((k) => esc(evaluate(r, limits)[k])).join(" | ")} |`),
    "",
  ];
  if (notes.length) lines.push("## Notes", "", ...notes.map((n) => `- ${n}`), "");
  lines.push(
    "## Inputs",
    "",
    "- context: context@2 written with `@vmstream/libxl`'s descriptor writer; bodies 0–8191 random bytes.",
    "- libxc: v3 HVM images (STATIC_DATA_END, PAGE_DATA with 1024 or 1 pages each, TSC_INFO, HVM_CONTEXT, HVM_PARAMS, END) of random pages.",
    "- legacy: a 64-bit-toolstack HVM image (tsc_info, param chunks, 1024-page batches, HVM tail, DeviceModelRecord0002).",
    "- qemu: a real QEMU 7.2 `pc` stream (repository sample) whose `pc.ram` is rebuilt as random PAGE records.",
    "- The in-process walk rows time only the walk (`scripts/bench/walk.mjs`), not Node start-up.",
    "- Pipes: past the first 256 KiB vmstream asks Linux for a 1 MiB pipe buffer (F_SETPIPE_SZ, through perl); the row \"pipe kept at 64 KiB\" turns that off (`VMSTREAM_PIPE_SIZE=0`), and `cat | cat` is what the default pipe allows any reader on this machine.",
    "- convert: `cp` of the same input is the floor for any converter that writes its output to a file (it copies in the kernel).",
    "",
  );
  return lines.join("\n");
}
