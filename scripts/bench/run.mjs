/**
 * `npm run bench [-- --check] [-- --only REGEX]`: time vmstream against the
 * real tools, as installed, on streams written by real peers, by the
 * independent Xen encoder and by our own generators (inputs.mjs); print a
 * table and write docs/performance.md.
 *
 * Every row runs its two commands interleaved (ours, peer, ours, peer, …)
 * after one untimed round, and reports each side's median and spread
 * (min–max); a verdict compares medians. A row within 10 % of its target
 * gets as many rounds again and one more, and reports the medians of all.
 * `--check` exits 1 when any target is missed, a peer is missing, or
 * vmstream fails.
 *
 * Environment: BENCH_RUNS (timed rounds per row, at least 5; start-up rows
 * use at least 15), BENCH_MIB (size of the large inputs, default 512; the
 * committed report is a default run), BENCH_CODEC_MIB (size of the decode /
 * encode inputs, default 512), BENCH_SPARSE_GIB (guest size of the sparse
 * mapped-ram input, default 64, as issue 15 names it: its RAM is a private
 * mapping of a sparse file, so QEMU's reads while saving stay reclaimable
 * page cache), VMSTREAM_PEERS (where scripts/peers installed
 * QEMU 7.2/10.0 and their scripts, default /opt/vmstream-peers).
 *
 * `--big` adds the 4 GiB round trip (issue 21): a 4 GiB libxc stream from the
 * independent encoder decoded, then encoded, once each, byte-identical and
 * within the RSS limit (about 2 minutes and 10 GB of disk on top of the run).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CACHE, REPO, oneKiB, oursContext, oursQemu, realQemuStream, xenpeerLegacy, xenpeerLibxc } from "./inputs.mjs";
import { interleave, merged, rssMethod, runOnce } from "./measure.mjs";
import { NOT_INSTALLED, SYSTEM_PYTHON, analyzeMigration, versionOf, xenTools } from "./peers.mjs";
import { renderMarkdown, renderTable, verdictOf } from "./report.mjs";

const { values: args } = parseArgs({ options: { check: { type: "boolean" }, only: { type: "string" }, "no-write": { type: "boolean" }, big: { type: "boolean" } } });
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const STARTUP_RUNS = Math.max(15, RUNS);
/** A row whose ratio lies this close to its target (relative) is measured again, as many rounds and one more. */
const NEAR = 0.1;
const BIG = Number(process.env.BENCH_MIB ?? 512);
const HALF = Math.max(1, BIG >> 1);
const CODEC = Number(process.env.BENCH_CODEC_MIB ?? 512);
const SPARSE_GIB = Number(process.env.BENCH_SPARSE_GIB ?? 64);
const SPARSE_DATA_MIB = 256;
const DEFAULT_SIZES = BIG === 512 && CODEC === 512 && SPARSE_GIB === 64;
const MiB = 1 << 20;
const RSS_LIMIT_MIB = 160;

const q = (s) => `'${String(s).replace(/'/g, "'\\''")}'`;
const NODE = q(process.execPath);
const VM = `${NODE} ${q(join(REPO, "packages/cli/bin/vmstream.cjs"))}`;
const HERE = join(REPO, "scripts/bench");
const work = join(REPO, "bench-out/work");
const log = (s) => process.stderr.write(`${s}\n`);
/** sync(1) after deleting an output: the dirty pages of one run must not slow the next. */
const flush = () => {
  try {
    execFileSync("sync");
  } catch {}
};
const rm = (...paths) => () => {
  for (const p of paths) rmSync(p, { force: true });
  flush();
};

const rows = [];
const notes = [];
/** Round trips that did not give the input back (or broke the RSS limit): `--check` fails on them too. */
const broken = [];
const only = args.only ? new RegExp(args.only, "i") : null;

/** Inputs are made on first use; one that cannot be made marks its rows as not measured, with the reason. */
const inputs = new Map();
function input(key, label, make) {
  if (!inputs.has(key)) {
    const t = performance.now();
    try {
      const path = make();
      const bytes = statSync(path).size;
      inputs.set(key, { path, bytes, label: `${label}, ${bytes < MiB ? `${bytes} B` : `${(bytes / MiB).toFixed(0)} MiB`}` });
      log(`  input ${key}: ${path} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    } catch (e) {
      inputs.set(key, { error: e.message.split("\n")[0], label });
      log(`  input ${key}: not made: ${e.message.split("\n")[0]}`);
    }
  }
  return inputs.get(key);
}

/**
 * One row: ours against a peer (or a reference command), interleaved.
 * `peer` null = peer missing (`missing` says why). `target.ratio`: ours'
 * median ≤ ratio × the peer's; `target.reference`: shown for scale only.
 */
async function row(name, inp, ours, peer, target, opts = {}) {
  const full = `${name} [${inp.label}]`;
  if (only && !only.test(full)) return;
  log(`${full} …`);
  const r = { name, input: inp, peerName: opts.peerName ?? "", target, note: opts.note };
  if (inp.error) {
    r.skipped = `input not made: ${inp.error}`;
  } else if (peer === null) {
    [r.ours] = await interleave([{ cmd: ours, after: opts.after }], { runs: opts.runs ?? RUNS });
    r.peer = null;
    r.missing = opts.missing ?? NOT_INSTALLED;
  } else {
    const cmds = [
      { cmd: ours, after: opts.after },
      { cmd: peer, after: opts.afterPeer ?? opts.after, env: opts.peerEnv },
    ];
    const runs = opts.runs ?? RUNS;
    [r.ours, r.peer] = await interleave(cmds, { runs });
    // A ratio within 10 % of its target is decided by the machine's noise as much as by the code:
    // such a row gets more rounds, and its verdict the medians of them all (either way).
    const ratio = r.ours.ok && r.peer.ok ? r.ours.seconds / r.peer.seconds : null;
    if (ratio !== null && target.ratio && Math.abs(ratio / target.ratio - 1) < NEAR) {
      log(`  ${ratio.toFixed(2)}× is within ${NEAR * 100} % of ${target.ratio}×: ${runs + 1} more rounds`);
      const [o, p] = await interleave(cmds, { runs: runs + 1, warmup: 0 });
      r.ours = merged(r.ours, o);
      r.peer = merged(r.peer, p);
    }
  }
  rows.push(r);
  const v = verdictOf(r, RSS_LIMIT_MIB);
  log(`  → ${r.ours?.ok ? `${r.ours.seconds.toFixed(3)} s` : (r.ours?.error ?? r.skipped)}${r.peer?.ok ? ` vs ${r.peer.seconds.toFixed(3)} s` : ""}: ${v.text}`);
}

/**
 * `--big`: a 4 GiB stream decoded, then its document (about 5.7 GB) encoded,
 * once each: the round trip must give the input back byte for byte, each
 * step within the RSS limit. Reported as a note (one run, not a ratio).
 */
async function bigRoundTrip() {
  const inp = input("libxc-4g", "libxc@3 HVM, 1024 pages/record, xenpeer", () => xenpeerLibxc(4096, 1024));
  const label = `4 GiB round trip [${inp.label}]`;
  if (inp.error) {
    notes.push(`${label}: not measured, input not made: ${inp.error}`);
    broken.push(label);
    return;
  }
  const doc = join(work, "big.json");
  const out = join(work, "big.out");
  try {
    log(`${label} …`);
    const dec = await runOnce(`${VM} decode ${q(inp.path)} > ${q(doc)}`, { timeoutMs: 1_800_000 });
    const enc = dec.code === 0 ? await runOnce(`${VM} encode ${q(doc)} ${q(out)}`, { timeoutMs: 1_800_000 }) : null;
    let same = false;
    try {
      if (enc?.code === 0) execFileSync("cmp", ["-s", out, inp.path]);
      same = enc?.code === 0;
    } catch {}
    const step = (name, m) => (m ? (m.code === 0 ? `${name} ${m.seconds.toFixed(1)} s (cpu ${m.cpu?.toFixed(1) ?? "?"} s), ${Math.round(m.rssKiB / 1024)} MiB peak RSS` : `${name} FAILED: ${m.stderr.split("\n")[0]}`) : `${name} not run`);
    notes.push(`${label}: ${step("decode", dec)}; ${step("encode", enc)}; the encoded stream is ${same ? "byte-identical to" : "DIFFERENT from"} the input`);
    const rssOver = [dec, enc].some((m) => m && m.rssKiB / 1024 > RSS_LIMIT_MIB);
    if (!same || rssOver) broken.push(label);
    log(`  → ${notes[notes.length - 1]}`);
  } finally {
    rm(doc, out)();
  }
}

const started = new Date();
const load0 = loadavg();
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
try {
  const xen = xenTools();
  const analyze = { "7.2": analyzeMigration("7.2"), "10.0": analyzeMigration("10.0") };
  log(`inputs: cached in ${CACHE} (large ${BIG} MiB, decode/encode ${CODEC} MiB)`);

  // ---- Start-up: what every command pays before its first byte.
  const none = { label: "no input", bytes: 0, path: "" };
  await row("start-up: vmstream --version", none, `${VM} --version > /dev/null`, `${NODE} -e 0`, { ratio: 1.2 }, { peerName: "node -e 0", runs: STARTUP_RUNS });
  const kib = input("1k", "context@2, our generator", oneKiB);
  await row("start-up: verify", kib, `${VM} verify ${q(kib.path)} > /dev/null`, `${NODE} -e 0`, { ratio: 1.4 }, { peerName: "node -e 0", runs: STARTUP_RUNS });
  await row("start-up: python3 from PATH", none, "python3 -c pass", `${SYSTEM_PYTHON} -c pass`, { reference: true }, { peerName: SYSTEM_PYTHON, runs: RUNS });
  // This machine sets NODE_EXTRA_CA_CERTS (for its proxy): every Node process, vmstream's and the references', parses
  // those certificates at start. Shown, not removed: every row runs in the environment a user here has.
  if (process.env.NODE_EXTRA_CA_CERTS) {
    await row("start-up: node -e 0 with NODE_EXTRA_CA_CERTS set", none, `${NODE} -e 0`, `env -u NODE_EXTRA_CA_CERTS ${NODE} -e 0`, { reference: true }, { peerName: "node -e 0 without it", runs: RUNS });
  }

  // ---- Xen: verify against verify-stream-v2, convert against convert-legacy-stream.
  const verifyV2 = (fam, f) => (xen.verify ? `${q(xen.verify)} -f ${fam} -i ${q(f)} > /dev/null` : null);
  const x1024 = input("libxc-1024", "libxc@3 HVM, 1024 pages/record, xenpeer", () => xenpeerLibxc(BIG, 1024));
  await row("verify", x1024, `${VM} verify ${q(x1024.path)} > /dev/null`, verifyV2("libxc", x1024.path), { ratio: 1.0 }, { peerName: "verify-stream-v2", peerEnv: xen.env });
  const x1 = input("libxc-1", "libxc@3 HVM, 1 page/record, xenpeer", () => xenpeerLibxc(BIG, 1));
  await row("verify", x1, `${VM} verify ${q(x1.path)} > /dev/null`, verifyV2("libxc", x1.path), { ratio: 0.5 }, { peerName: "verify-stream-v2", peerEnv: xen.env });

  const leg = input("legacy", "legacy@64 HVM, xenpeer", () => xenpeerLegacy(BIG));
  {
    const ours = join(work, "legacy.ours.out");
    const theirs = join(work, "legacy.xen.out");
    const oursCmd = `${VM} convert ${q(leg.path)} ${q(ours)} --to libxc --width 64 --guest hvm`;
    const peerCmd = xen.convert ? `${q(xen.convert)} -i ${q(leg.path)} -o ${q(theirs)} -w 64 -g hvm -f libxc` : null;
    await row("convert --to libxc", leg, oursCmd, peerCmd, { ratio: 1.0 }, { peerName: "convert-legacy-stream", peerEnv: xen.env, after: rm(ours), afterPeer: rm(theirs) });
    if (peerCmd && !leg.error && (!only || only.test("convert"))) {
      // One more run of each, untimed, to compare the outputs byte for byte.
      let verdict = "not compared (a comparison run failed)";
      try {
        execFileSync("sh", ["-c", oursCmd]);
        execFileSync("sh", ["-c", peerCmd], { env: xen.env });
        verdict = "DIFFERENT from";
        execFileSync("cmp", ["-s", ours, theirs]);
        verdict = "byte-identical to";
      } catch {}
      notes.push(`convert: vmstream's output is ${verdict} convert-legacy-stream's`);
      rm(ours, theirs)();
    }
  }

  // ---- QEMU: each release's analyze-migration.py on streams that release wrote.
  for (const rel of ["7.2", "10.0"]) {
    const mig = input(`qemu-${rel}`, `qemu@3, written by QEMU ${rel} (pc-i440fx-${rel}, ${BIG} MiB guest, random RAM)`, () => realQemuStream(rel, BIG));
    const a = analyze[rel];
    const peer = a ? `${q(a.python)} ${q(a.script)} -f ${q(mig.path)} > /dev/null` : null;
    const missing = `${NOT_INSTALLED}: QEMU ${rel}'s analyze-migration.py (scripts/peers installs it)`;
    const opts = { peerName: `analyze-migration.py ${rel}`, missing };
    await row("inspect --json --view analyze", mig, `${VM} inspect ${q(mig.path)} --json --view analyze > /dev/null`, peer, { ratio: 0.5 }, opts);
    await row("verify", mig, `${VM} verify ${q(mig.path)} > /dev/null`, peer, { ratio: 0.5 }, opts);
  }

  // ---- Every family through a pipe, against a Node process that only reads the pipe.
  const families = [
    ["qemu", inputs.get("qemu-7.2")],
    ["libxc", x1024],
    ["libxl", input("libxl", "libxl@2 HVM, 1024 pages/record, xenpeer", () => xenpeerLibxc(HALF, 1024, "libxl"))],
    ["xl", input("xl", "xl@1 + libxl@2, xenpeer", () => xenpeerLibxc(HALF, 1024, "xl"))],
    ["legacy", leg],
    ["context", input("context", "context@2, our generator, 0–8 KiB records", () => oursContext(HALF))],
  ];
  for (const [, inp] of families) {
    const drain = `cat ${q(inp.path)} | ${NODE} ${q(join(HERE, "drain.mjs"))}`;
    await row("cat | vmstream verify -", inp, `cat ${q(inp.path)} | ${VM} verify - > /dev/null`, drain, { ratio: 1 / 0.8, speed: 0.8 }, { peerName: "cat | node (read only)" });
  }

  // ---- Recode against the copy floor.
  const recodeInputs = [
    inputs.get("qemu-7.2"),
    input("qemu-gen", "qemu@3 pc-7.2, our generator (real stream, pc.ram rebuilt)", () => oursQemu(BIG)),
    input("qemu-mapped-ram", `qemu@3 mapped-ram, written by QEMU 10.0 (file: migration, ${BIG} MiB guest)`, () => realQemuStream("10.0", BIG, { mappedRam: true })),
    x1024,
    // The pipe rows' libxl and context inputs are half as large; recode is timed on inputs the size of the
    // others, so every recode row weighs Node's start-up (~0.15 s, ~2× cp of 256 MiB here) alike.
    input("libxl-big", "libxl@2 HVM, 1024 pages/record, xenpeer", () => xenpeerLibxc(BIG, 1024, "libxl")),
    input("context-big", "context@2, our generator, 0–8 KiB records", () => oursContext(BIG)),
  ];
  for (const inp of recodeInputs) {
    const out = join(work, "recode.out");
    await row("recode", inp, `${VM} recode ${q(inp.path)} ${q(out)}`, `cp ${q(inp.path)} ${q(out)}`, { ratio: 3 }, { peerName: "cp", after: rm(out) });
  }

  // ---- A big guest holding little data, saved as mapped-ram: verify reads
  // what the bitmaps say is there, so its time follows the data, not the
  // guest's size. Against verify of a plain stream of a guest of that data's
  // size (QEMU 10.0 too), which must read every byte; `cp --sparse=always` of
  // the file, which copies the data alone, is reported for scale.
  {
    const label = `qemu@3 mapped-ram, written by QEMU 10.0 (file: migration, ${SPARSE_GIB} GiB guest holding ${SPARSE_DATA_MIB} MiB of random data), apparent size`;
    const sparse = input("qemu-mapped-ram-sparse", label, () => realQemuStream("10.0", SPARSE_GIB * 1024, { mappedRam: true, dataMiB: SPARSE_DATA_MIB }));
    const plain = input(`qemu-10.0-${SPARSE_DATA_MIB}`, `qemu@3, written by QEMU 10.0 (${SPARSE_DATA_MIB} MiB guest)`, () => realQemuStream("10.0", SPARSE_DATA_MIB));
    const plainCmd = plain.error ? null : `${VM} verify ${q(plain.path)} > /dev/null`;
    await row("verify", sparse, `${VM} verify ${q(sparse.path)} > /dev/null`, plainCmd, { ratio: 1.0 }, {
      peerName: `vmstream verify, ${SPARSE_DATA_MIB} MiB plain stream`,
      missing: `the plain ${SPARSE_DATA_MIB} MiB stream was not made: ${plain.error}`,
    });
    const out = join(work, "sparse.out");
    await row("verify (scale: the data copied)", sparse, `${VM} verify ${q(sparse.path)} > /dev/null`, `cp --sparse=always ${q(sparse.path)} ${q(out)}`, { reference: true }, { peerName: "cp --sparse=always", afterPeer: rm(out) });
  }

  // ---- decode / encode against base64 of the same bytes.
  const codecInputs = [
    input("qemu-7.2-small", `qemu@3, written by QEMU 7.2 (${CODEC} MiB guest)`, () => realQemuStream("7.2", CODEC)),
    input("libxc-small", "libxc@3 HVM, 1024 pages/record, xenpeer", () => xenpeerLibxc(CODEC, 1024)),
    input("libxl-small", "libxl@2 HVM, xenpeer", () => xenpeerLibxc(CODEC, 1024, "libxl")),
    input("xl-small", "xl@1 HVM, xenpeer", () => xenpeerLibxc(CODEC, 1024, "xl")),
    input("legacy-small", "legacy@64 HVM, xenpeer", () => xenpeerLegacy(CODEC)),
    input("context-small", "context@2, our generator", () => oursContext(CODEC)),
    input("qemu-10.0-mapped-small", `qemu@3 mapped-ram, written by QEMU 10.0 (${CODEC} MiB guest)`, () => realQemuStream("10.0", CODEC, { mappedRam: true })),
  ];
  for (const inp of codecInputs) {
    await row("decode", inp, `${VM} decode ${q(inp.path)} > /dev/null`, `base64 -w0 ${q(inp.path)} > /dev/null`, { ratio: 3 }, { peerName: "base64 -w0" });
    if (inp.error || (only && !only.test(`encode [${inp.label}]`))) continue;
    // The document to encode, and the page data as base64 for the reference (the input's bytes, base64-encoded once).
    const doc = join(work, "doc.json");
    const b64 = join(work, "input.b64");
    const out = join(work, "encoded.bin");
    let made = true;
    try {
      execFileSync("sh", ["-c", `${VM} decode ${q(inp.path)} > ${q(doc)} && base64 -w0 ${q(inp.path)} > ${q(b64)}`], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      made = false;
      notes.push(`encode [${inp.label}]: not measured, the decode that makes its document failed: ${String(e.stderr ?? e.message).split("\n")[0]}`);
    }
    if (made) {
      // Both sides write their bytes to a file beside the input (a user's encode writes a file;
      // writing the peer's to /dev/null would time a page-cache write for us only).
      const peerOut = `${out}.base64`;
      await row("encode", inp, `${VM} encode ${q(doc)} ${q(out)}`, `base64 -d ${q(b64)} > ${q(peerOut)}`, { ratio: 3 }, { peerName: "base64 -d", after: rm(out), afterPeer: rm(peerOut) });
      let same = "not compared (encode failed)";
      try {
        execFileSync("sh", ["-c", `${VM} encode ${q(doc)} ${q(out)}`], { stdio: "ignore" });
        same = "DIFFERENT from";
        execFileSync("cmp", ["-s", out, inp.path]);
        same = "byte-identical to";
      } catch {}
      notes.push(`decode → encode [${inp.label}]: the encoded stream is ${same} the input`);
      if (same !== "byte-identical to") broken.push(`decode → encode [${inp.label}]`);
    }
    rm(doc, b64, out)();
  }

  // ---- Guest memory (issue 18): a 4 GiB guest exported by `memory` and diffed against itself, against cp of the input.
  if (!only || only.test("memory") || only.test("diff A A") || only.test("Node's floor")) {
    const big = input("qemu-4g", "qemu@3, written by QEMU 10.0 (pc-i440fx-10.0, 4 GiB guest, 256 MiB random at 1 MiB and at 4 GiB, the rest zero pages)", guest4G);
    const out = join(work, "memory.out");
    const copy = join(work, "memory.cp");
    const cp = `cp ${q(big.path)} ${q(copy)}`;
    const opts = { peerName: "cp", after: rm(out), afterPeer: rm(copy) };
    await row("memory (ELF core)", big, `${VM} memory ${q(big.path)} ${q(out)} > /dev/null`, cp, { ratio: 2 }, opts);
    await row("memory --raw", big, `${VM} memory ${q(big.path)} ${q(out)} --raw > /dev/null`, cp, { ratio: 2 }, opts);
    await row("diff A A", big, `${VM} diff ${q(big.path)} ${q(big.path)} > /dev/null`, cp, { ratio: 2 }, { peerName: "cp", afterPeer: rm(copy) });
    // What any Node program pays to read this input and write it out again, against the same cp: the floor under the rows above.
    await row("Node's floor (not vmstream): read + write, no parsing", big, `${NODE} ${q(join(HERE, "node-copy.mjs"))} ${q(big.path)} ${q(out)}`, cp, { reference: true }, opts);
  }

  if (args.big) await bigRoundTrip();

  const load1 = loadavg();
  const machine = {
    date: started.toISOString(),
    minutes: ((Date.now() - started.getTime()) / 60000).toFixed(1),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? "unknown",
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: `${process.execPath} ${process.version}`,
    load: `${load0.map((x) => x.toFixed(2)).join(" / ")} (1 / 5 / 15 min) at start, ${load1.map((x) => x.toFixed(2)).join(" / ")} at end`,
    // The load before the first row: at the end the bench's own commands (one at a time, plus the
    // kernel's copies and page-cache work) have raised the 1-minute average to about 1 by themselves.
    busy: load0[0] > 1,
    runs: RUNS,
    startupRuns: STARTUP_RUNS,
    rss: rssMethod(),
    peers: {
      "verify-stream-v2": xen.verify ? `${xen.verify}, run by its #! line: ${xen.interpreter.path} (${xen.interpreter.version}), PYTHONPATH=${xen.pythonPath}` : NOT_INSTALLED,
      "convert-legacy-stream": xen.convert ? `${xen.convert}, same interpreter` : NOT_INSTALLED,
      "analyze-migration.py 7.2": analyze["7.2"] ? `${analyze["7.2"].script}, run by ${analyze["7.2"].python} (${analyze["7.2"].version})` : NOT_INSTALLED,
      "analyze-migration.py 10.0": analyze["10.0"] ? `${analyze["10.0"].script}, run by ${analyze["10.0"].python} (${analyze["10.0"].version})` : NOT_INSTALLED,
      "python3 on PATH": `${execFileSync("sh", ["-c", "command -v python3 || echo none"], { encoding: "utf8" }).trim()} (${versionOf("python3")}), used by no peer`,
      cp: versionOf("cp"),
      base64: versionOf("base64"),
    },
  };
  process.stdout.write(`${renderTable(rows, RSS_LIMIT_MIB)}\n`);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  const failed = rows.filter((r) => verdictOf(r, RSS_LIMIT_MIB).failed);
  for (const b of broken) process.stdout.write(`round trip failed: ${b}\n`);
  process.stdout.write(`${failed.length ? `${failed.length} of ${rows.filter((r) => !r.target.reference).length} targets missed` : "every target met"} (${machine.minutes} min)\n`);
  if (DEFAULT_SIZES && !only && !args["no-write"]) {
    const kept = join(HERE, "performance-notes.md");
    const extra = existsSync(kept) ? readFileSync(kept, "utf8") : "";
    writeFileSync(join(REPO, "docs/performance.md"), `${renderMarkdown(rows, machine, notes, RSS_LIMIT_MIB, { check: !!args.check })}${extra}`);
    log("wrote docs/performance.md");
  } else {
    log("not a full default run: docs/performance.md left unchanged");
  }
  if (args.check && (failed.length || broken.length)) process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * The 4 GiB guest of the memory rows: QEMU 10.0 `-m 4G`, paused, with 256 MiB of
 * pseudo-random bytes just above 1 MiB and 256 MiB at 4 GiB (RAM above the PCI
 * hole), migrated to a file. Cached in bench-out/inputs like every input.
 */
function guest4G() {
  const qemu = join(process.env.VMSTREAM_PEERS ?? "/opt/vmstream-peers", "bin/qemu-system-x86_64-10.0");
  if (!existsSync(qemu)) throw new Error(`QEMU 10.0 is not installed (${qemu})`);
  const path = join(CACHE, "qemu-10.0-4g-part-random.mig");
  if (existsSync(path)) return path;
  mkdirSync(CACHE, { recursive: true });
  const rnd = `${path}.ram-${process.pid}`;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    // AES-CTR of zeros with a fixed key: the same pseudo-random bytes on every machine.
    execFileSync("sh", ["-c", `head -c ${256 * MiB} /dev/zero | openssl enc -aes-128-ctr -K 766d73747265616d766d73747265616d -iv 0 > ${q(rnd)}`]);
    const monitor = ["migrate_set_parameter max-bandwidth 100G", `migrate "exec:cat > ${tmp}"`, "quit", ""].join("\n");
    const args = ["-M", "pc-i440fx-10.0", "-m", "4G", "-S", "-nodefaults", "-display", "none", "-monitor", "stdio"];
    args.push("-device", `loader,file=${rnd},addr=0x100000,force-raw=on`, "-device", `loader,file=${rnd},addr=0x100000000,force-raw=on`);
    execFileSync(qemu, args, { input: monitor, stdio: ["pipe", "ignore", "pipe"], timeout: 600_000 });
    if (!existsSync(tmp) || statSync(tmp).size < 500 * MiB) throw new Error("QEMU 10.0 wrote no complete stream");
    execFileSync("mv", [tmp, path]);
  } finally {
    rmSync(rnd, { force: true });
    rmSync(tmp, { force: true });
  }
  return path;
}

