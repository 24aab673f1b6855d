/**
 * `npm run bench`: generate the inputs, time vmstream against the real tools
 * on them in the same run, print a table and write docs/performance.md.
 *
 * Environment: BENCH_RUNS (attempts per measurement, best kept; default 5: this shared two-core machine varies by ±20–30 % from run to run),
 * BENCH_SCALE (input size factor, default 1 — smaller for a quick look; the
 * committed report is always a full-size run), ANALYZE_MIGRATION (path to a
 * copy of QEMU's scripts/analyze-migration.py; never committed here).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateContext } from "./gen/context.mjs";
import { generateQemu, qemuTemplate } from "./gen/qemu.mjs";
import { generateLegacy, generateLibxc } from "./gen/xen.mjs";
import { measure, rssMethod } from "./measure.mjs";
import { NOT_INSTALLED, analyzeMigration, xenTools } from "./peers.mjs";
import { renderMarkdown, renderTable } from "./report.mjs";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const HERE = fileURLToPath(new URL(".", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const MiB = 1 << 20;
const sz = (n) => Math.max(MiB, Math.round((n * SCALE) / MiB) * MiB);
const q = (s) => `'${s.replace(/'/g, "'\\''")}'`;
const VM = `${q(process.execPath)} ${q(join(REPO, "packages/cli/bin/vmstream.js"))}`;
const NODE = q(process.execPath);

/** Targets from the performance issue. */
const RSS_LIMIT_MIB = 160;
const GBps = 1e9;

const dir = mkdtempSync(join(tmpdir(), "vmstream-bench-"));
/** sync(1): dirty pages of one run must not slow the next (outputs are deleted and flushed between runs). */
const flush = () => {
  try {
    execFileSync("sync");
  } catch {}
};
const rows = [];
const notes = [];
const log = (s) => process.stderr.write(`${s}\n`);

function row(r) {
  rows.push(r);
  log(`  ${r.name}: ${r.ours?.ok ? `${r.ours.seconds.toFixed(3)} s` : (r.ours?.error ?? "-")}${r.peer?.ok ? ` vs ${r.peer.seconds.toFixed(3)} s` : ""}`);
}

/** ours vs a peer on one input; `peerCmd` null = peer missing. */
async function versus(name, input, oursCmd, peerCmd, target, opts = {}) {
  log(`${name} …`);
  const ours = await measure(oursCmd, { runs: RUNS, after: opts.after });
  const peer = peerCmd ? await measure(peerCmd, { runs: RUNS, after: opts.afterPeer ?? opts.after, env: opts.peerEnv }) : null;
  row({ name, input, bytes: statSync(input.path).size, ours, peer, peerName: opts.peerName, target, kind: "ratio" });
}

async function throughput(name, input, cmd, target, { inProcess = false, after } = {}) {
  log(`${name} …`);
  const ours = await measure(cmd, { runs: RUNS, after });
  if (ours.ok && inProcess) {
    const j = JSON.parse(ours.stdout.trim().split("\n").pop());
    ours.seconds = j.seconds;
  }
  row({ name, input, bytes: statSync(input.path).size, ours, target, kind: "throughput" });
}

try {
  const started = new Date();
  const load0 = loadavg()[0];
  const xen = xenTools();
  const analyze = analyzeMigration();
  const pyEnv = { ...process.env, PYTHONPATH: xen.pythonPath ?? "" };
  const xenVerify = (f) => (xen.verify ? `python3 ${q(join(HERE, "xen-verify.py"))} ${q(xen.verify)} -f libxc -i ${q(f)} > /dev/null` : null);

  log(`generating inputs in ${dir} (scale ${SCALE}) …`);
  const inputs = {};
  const gen = (key, label, fn) => {
    const path = join(dir, key);
    const t = performance.now();
    try {
      fn(path);
      inputs[key] = { path, label: `${label}, ${(statSync(path).size / MiB).toFixed(0)} MiB` };
      log(`  ${key}: ${inputs[key].label} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    } catch (e) {
      notes.push(`${label}: not generated (${e.message})`);
      log(`  ${key}: skipped: ${e.message}`);
    }
  };
  gen("context.bin", "context@2, synthetic, 0–8 KiB records", (p) => generateContext(p, sz(256 * MiB)));
  gen("libxc-1024.bin", "libxc@3 HVM, 1024 pages/record", (p) => generateLibxc(p, sz(512 * MiB), 1024));
  gen("libxc-1.bin", "libxc@3 HVM, 1 page/record", (p) => generateLibxc(p, sz(512 * MiB), 1));
  gen("legacy.bin", "legacy@64 HVM", (p) => generateLegacy(p, sz(1024 * MiB)));
  if (qemuTemplate()) gen("qemu.mig", "qemu@3 pc-7.2, random RAM", (p) => generateQemu(p, sz(512 * MiB)));
  else notes.push("QEMU input: no template stream in this checkout (fixtures/qemu/pc-7.2-stopped.mig)");
  // Let the kernel write the generated GiBs back now, not during the write-heavy measurements.
  flush();

  // Fixed costs every command pays, for reading the ratios on small inputs.
  const none = { path: process.execPath, label: "no input" };
  await throughput("start-up: vmstream --version", none, `${VM} --version > /dev/null`, { reference: true });
  await throughput("start-up: node -e 0", none, `${NODE} -e 0`, { reference: true });
  await throughput("start-up: python3 -c pass", none, "python3 -c pass", { reference: true });

  const ctx = inputs["context.bin"];
  if (ctx) {
    await throughput("walk records, file (in process)", ctx, `${NODE} ${q(join(HERE, "walk.mjs"))} ${q(ctx.path)}`, { gbps: 1 }, { inProcess: true });
    await throughput("walk records, pipe (in process)", ctx, `cat ${q(ctx.path)} | ${NODE} ${q(join(HERE, "walk.mjs"))} -`, { gbps: 1 }, { inProcess: true });
    await throughput("verify, file", ctx, `${VM} verify ${q(ctx.path)} > /dev/null`, {});
    await throughput("verify - (cat | vmstream)", ctx, `cat ${q(ctx.path)} | ${VM} verify - > /dev/null`, { gbps: 1 });
    await throughput("pipe ceiling (cat | cat)", ctx, `cat ${q(ctx.path)} | cat > /dev/null`, { reference: true });
    // The same with the pipe left at the kernel's 64 KiB (vmstream grows it to 1 MiB by default).
    await throughput(
      "walk records, pipe kept at 64 KiB (in process)",
      ctx,
      `cat ${q(ctx.path)} | VMSTREAM_PIPE_SIZE=0 ${NODE} ${q(join(HERE, "walk.mjs"))} -`,
      { reference: true },
      { inProcess: true },
    );
  }
  const x1024 = inputs["libxc-1024.bin"];
  if (x1024) {
    await throughput("verify - (cat | vmstream)", x1024, `cat ${q(x1024.path)} | ${VM} verify - > /dev/null`, { gbps: 1 });
    await versus("verify", x1024, `${VM} verify ${q(x1024.path)} > /dev/null`, xenVerify(x1024.path), { ratio: 1.0 }, { peerName: "verify-stream-v2", peerEnv: pyEnv });
  }
  const x1 = inputs["libxc-1.bin"];
  if (x1) {
    await versus("verify", x1, `${VM} verify ${q(x1.path)} > /dev/null`, xenVerify(x1.path), { ratio: 0.5 }, { peerName: "verify-stream-v2", peerEnv: pyEnv });
  }
  const leg = inputs["legacy.bin"];
  if (leg) {
    // The floor for any converter: copying the input file once, in the kernel (cp uses copy_file_range).
    const copy = join(dir, "legacy.cp.out");
    const del = () => {
      rmSync(copy, { force: true });
      flush();
    };
    await throughput("copy the input (cp), for scale", leg, `cp ${q(leg.path)} ${q(copy)}`, { reference: true }, { after: del });
    const ours = join(dir, "legacy.ours.out");
    const theirs = join(dir, "legacy.xen.out");
    await versus(
      "convert --to libxc",
      leg,
      `${VM} convert ${q(leg.path)} ${q(ours)} --to libxc --width 64 --guest hvm`,
      xen.convert ? `${q(xen.convert)} -i ${q(leg.path)} -o ${q(theirs)} -w 64 -g hvm -f libxc` : null,
      { ratio: 0.5 },
      {
        peerName: "convert-legacy-stream",
        peerEnv: pyEnv,
        after: () => {
          rmSync(ours, { force: true });
          flush();
        },
        afterPeer: () => {
          rmSync(theirs, { force: true });
          flush();
        },
      },
    );
    const last = rows[rows.length - 1];
    if (last.ours.ok && last.peer?.ok) {
      // One more run of each, untimed, to compare the outputs byte for byte.
      let verdict = "not compared (a comparison run failed)";
      try {
        execFileSync("sh", ["-c", `${VM} convert ${q(leg.path)} ${q(ours)} --to libxc --width 64 --guest hvm`]);
        execFileSync(xen.convert, ["-i", leg.path, "-o", theirs, "-w", "64", "-g", "hvm", "-f", "libxc"], { env: pyEnv });
        verdict = "DIFFERENT from";
        execFileSync("cmp", ["-s", ours, theirs]);
        verdict = "byte-identical to";
      } catch {}
      notes.push(`convert: vmstream's output is ${verdict} convert-legacy-stream's`);
    }
    rmSync(ours, { force: true });
    rmSync(theirs, { force: true });
    flush();
  }
  const mig = inputs["qemu.mig"];
  if (mig) {
    const peer = analyze ? `python3 ${q(analyze)} -f ${q(mig.path)} > /dev/null` : null;
    await versus("inspect --json --view analyze", mig, `${VM} inspect ${q(mig.path)} --json --view analyze > /dev/null`, peer, { ratio: 0.5 }, { peerName: "analyze-migration.py" });
    await versus("verify", mig, `${VM} verify ${q(mig.path)} > /dev/null`, peer, { ratio: 0.5 }, { peerName: "analyze-migration.py" });
  }
  for (const key of ["context.bin", "libxc-1024.bin", "qemu.mig"]) {
    const inp = inputs[key];
    if (!inp) continue;
    const out = join(dir, "recode.out");
    const del = () => {
      rmSync(out, { force: true });
      flush();
    };
    await versus("recode", inp, `${VM} recode ${q(inp.path)} ${q(out)}`, `cp ${q(inp.path)} ${q(out)}`, { ratio: 3 }, { peerName: "cp", after: del });
  }

  const machine = {
    date: started.toISOString(),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    load: `${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end`,
    runs: RUNS,
    scale: SCALE,
    rss: rssMethod(),
    peers: {
      "verify-stream-v2": xen.verify ?? NOT_INSTALLED,
      "convert-legacy-stream": xen.convert ?? NOT_INSTALLED,
      "analyze-migration.py": analyze ? "a local copy (ANALYZE_MIGRATION)" : NOT_INSTALLED,
    },
  };
  const limits = { rssMiB: RSS_LIMIT_MIB, GBps };
  process.stdout.write(`${renderTable(rows, limits)}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  if (SCALE === 1) {
    writeFileSync(join(REPO, "docs/performance.md"), renderMarkdown(rows, machine, notes, limits));
    log("wrote docs/performance.md");
  } else {
    log("BENCH_SCALE ≠ 1: docs/performance.md left unchanged");
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
