/** Verdicts and formatting of bench rows: a plain table for the terminal, Markdown for docs/performance.md. */

const mib = (kib) => (kib / 1024).toFixed(0);
const secs = (s) => (s < 10 ? s.toFixed(3) : s.toFixed(1));
const spread = (m) => `${secs(m.seconds)} (${secs(m.min)}–${secs(m.max)})`;

/** A row's verdict: `failed` counts against `--check`; reference rows never fail. */
export function verdictOf(r, rssLimitMiB) {
  if (r.target.reference) return { text: "reference", failed: false };
  if (r.skipped) return { text: `NOT measured: ${r.skipped}`, failed: true };
  if (!r.ours.ok) return { text: `NOT met: vmstream failed: ${r.ours.error}`, failed: true };
  const problems = [];
  if (r.ours.rssKiB / 1024 > rssLimitMiB) problems.push(`RSS ${mib(r.ours.rssKiB)} MiB > ${rssLimitMiB}`);
  if (!r.peer) problems.push(r.missing);
  else if (!r.peer.ok) problems.push(`peer failed: ${r.peer.error}`);
  else {
    const ratio = r.ours.seconds / r.peer.seconds;
    if (ratio > r.target.ratio) problems.push(r.target.speed ? `speed ${(1 / ratio).toFixed(2)}× < ${r.target.speed}×` : `${ratio.toFixed(2)}× > ${r.target.ratio}×`);
  }
  return problems.length ? { text: `NOT met: ${problems.join("; ")}`, failed: true } : { text: "met", failed: false };
}

function cells(r, rssLimitMiB) {
  const ok = r.ours?.ok;
  const peerOk = r.peer?.ok;
  const ratio = ok && peerOk ? r.ours.seconds / r.peer.seconds : null;
  const cpuRatio = ok && peerOk && r.ours.cpu && r.peer.cpu ? r.ours.cpu / r.peer.cpu : null;
  let target = "–";
  if (r.target.speed) target = `≥ ${r.target.speed}× its speed`;
  else if (r.target.ratio) target = `≤ ${r.target.ratio}×`;
  if (!r.target.reference) target += `, RSS ≤ ${rssLimitMiB} MiB`;
  return [
    r.name,
    r.input.label,
    ok ? spread(r.ours) : r.ours ? "failed" : "–",
    ok && r.input.bytes ? `${(r.input.bytes / r.ours.seconds / 1e6).toFixed(0)}` : "",
    ok ? mib(r.ours.rssKiB) : "",
    r.peerName,
    peerOk ? spread(r.peer) : r.peer ? "failed" : r.skipped ? "–" : r.missing,
    ratio === null ? "–" : r.target.speed ? `${ratio.toFixed(2)}× (speed ${(1 / ratio).toFixed(2)}×)` : `${ratio.toFixed(2)}×`,
    cpuRatio === null ? "" : `${cpuRatio.toFixed(2)}×`,
    target,
    verdictOf(r, rssLimitMiB).text,
  ];
}

const HEAD = ["measurement", "input", "vmstream s, median (min–max)", "MB/s", "peak RSS MiB", "against", "its s, median (min–max)", "ratio of medians", "CPU ratio", "target", "verdict"];

export function renderTable(rows, rssLimitMiB) {
  const data = [HEAD, ...rows.map((r) => cells(r, rssLimitMiB))];
  const widths = HEAD.map((_, i) => Math.max(...data.map((d) => String(d[i]).length)));
  return data.map((d) => d.map((c, i) => String(c).padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

export function renderMarkdown(rows, machine, notes, rssLimitMiB, { check }) {
  const esc = (s) => String(s).replace(/\|/g, "\\|");
  const failed = rows.filter((r) => verdictOf(r, rssLimitMiB).failed);
  const targets = rows.filter((r) => !r.target.reference).length;
  const lines = [
    "# Performance",
    "",
    `Written by \`npm run bench${check ? " -- --check" : ""}\` (scripts/bench/run.mjs); do not edit the tables by hand — rerun it.`,
    "The sections after the tables (optimisations, what fails and why) are kept by hand in",
    "scripts/bench/performance-notes.md and copied in by the bench.",
    "",
    `**Verdict of this run: ${failed.length ? `${failed.length} of ${targets} targets missed` : `all ${targets} targets met`}.**`,
    "",
    "## How it measures",
    "",
    `- Each row runs vmstream and the command it is compared with interleaved — ours, theirs, ours, theirs … — after one untimed round, ${machine.runs} timed rounds (${machine.startupRuns} for start-up rows); a row whose ratio lies within 10 % of its target then gets as many rounds again and one more (${machine.runs * 2 + 1} in all, or ${machine.startupRuns * 2 + 1}), whichever side of the target it lay. Times are wall-clock seconds of the whole command, Node or Python start-up included; the table gives the **median** and the spread (min–max), and verdicts compare medians.`,
    `- Peak RSS is the largest of all rounds (${machine.rss}); the limit is ${rssLimitMiB} MiB for every vmstream command. The CPU ratio (user + system time, medians) is shown beside the wall-clock ratio: on a loaded machine it is the steadier of the two.`,
    "- Peers run as installed: Debian's `verify-stream-v2` and `convert-legacy-stream` by their own `#!/usr/bin/python3` line (with the package's PYTHONPATH), never through the `python3` on PATH (a version manager's shim here: see the \"python3 from PATH\" row); each QEMU release's `analyze-migration.py` (installed by scripts/peers) by `/usr/bin/python3`, on streams that release wrote.",
    "- `cat | vmstream verify -` is compared with `cat | node drain.mjs`, a Node process that only reads the same pipe to its end; the target is at least 0.8× its speed (ratio of times ≤ 1.25).",
    "- decode is compared with `base64 -w0` of the input, encode with `base64 -d` of the input's bytes in base64 (the page data is nearly all of them); decode and its peer write to /dev/null, encode and its peer each write a file in the bench's work folder.",
    "",
    "## Machine",
    "",
    `- date: ${machine.date} (the run took ${machine.minutes} min)`,
    `- CPU: ${machine.cpu}, ${machine.nproc} cores, ${machine.memory}`,
    `- Node: ${machine.node}`,
    `- load average: ${machine.load}`,
    ...(machine.busy ? [`- **This run was made on a busy, shared machine** (other work running: a 1-minute load average above 1 on ${machine.nproc} cores when the run began). Absolute times are inflated and swing between rounds; the interleaving and the medians keep the ratios fair, but re-run on a quiet machine before reading small differences.`] : []),
    ...Object.entries(machine.peers).map(([k, v]) => `- ${k}: ${v}`),
    "",
    "## Results",
    "",
    `| ${HEAD.join(" | ")} |`,
    `| ${HEAD.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${cells(r, rssLimitMiB).map(esc).join(" | ")} |`),
    "",
  ];
  if (notes.length) lines.push("## Notes from the run", "", ...notes.map((n) => `- ${n}`), "");
  lines.push(
    "## Inputs",
    "",
    "Made once and cached in bench-out/inputs/ (scripts/bench/inputs.mjs); a file's name carries a hash of how it was made.",
    "",
    "- qemu, written by QEMU 7.2 / 10.0: the release itself saves a stopped `pc-i440fx` guest whose RAM holds random bytes from 1 MiB on (copied in by a `loader` device before the first instruction), through the monitor's `migrate` to a file; mapped-ram is the same guest saved by QEMU 10.0 with the `mapped-ram` capability to a `file:` URI.",
    "- libxc, libxl, xl, legacy: written by the independent Python encoder of fixtures/tools/xenpeer (`big_libxc.py`, `big_legacy.py`, on `xsr.py`), not by our TypeScript; pages from a seeded 16 MiB random pool.",
    "- context: our generator (scripts/bench/gen/context.mjs; no other writer of the format exists), random bodies of 0–8191 bytes; the 1 KiB stream of the start-up row likewise with bodies of at most 96 bytes.",
    "- qemu, our generator: the repository's real QEMU 7.2 stream (fixtures/qemu/pc-7.2-stopped.mig) with its pc.ram rebuilt as random pages (scripts/bench/gen/qemu.mjs).",
    "",
  );
  return lines.join("\n");
}
