import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { QemuRelease } from "@vmstream/peers";
import { type KnownDisagreement, type Row, explain } from "./known.js";
import { type Verdict, oursVerify, qemuLoad, xenVerify, xenVerifyFixed } from "./loaders.js";
import { type Mutant, mutants } from "./mutants.js";
import { rng } from "./prng.js";
import { qemuRegions, xenRegions } from "./regions.js";
import { QEMU_TARGETS, XEN_PYTHONPATH, XEN_TARGETS, XEN_TOOL, qemuBinary } from "./targets.js";

export interface DifferentialOptions {
  repo: string;
  seed: number;
  /** Mutants per QEMU stream. */
  qemuPerStream: number;
  /** Mutants per Xen stream. */
  xenPerStream: number;
  /** Only the small streams (the CI subset). */
  subset: boolean;
  known: readonly KnownDisagreement[];
  /** QEMU loads run at once (each is one QEMU process). */
  jobs?: number;
  /** Called as each mutant is judged (progress). */
  onRow?: (row: ResultRow) => void;
}

export interface ResultRow extends Row {
  stream: string;
  what: string;
  index: number;
  agree: boolean;
  /** Why a disagreement is accepted (compat/differential-known.json), if it is. */
  reason?: string;
  /** The stock peer's verdict differs from the corrected one: a defect of the peer, not counted. */
  peerDefect?: string;
}

export interface DifferentialResult {
  seed: number;
  rows: ResultRow[];
  /** Peers that were not installed, with what was skipped because of them. */
  missing: string[];
  peers: string[];
}

const cliPath = (repo: string): string => join(repo, "packages/cli/bin/vmstream.cjs");

function judge(row: Omit<ResultRow, "agree" | "reason">, known: readonly KnownDisagreement[]): ResultRow {
  const agree = row.ours.verdict === row.peer.verdict;
  return { ...row, agree, reason: agree ? undefined : explain(row, known)?.reason };
}

/** Run `tasks` with at most `jobs` at once, in order of submission. */
async function pool<T>(jobs: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, tasks.length) }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

export async function runDifferential(o: DifferentialOptions): Promise<DifferentialResult> {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-differential-"));
  const cli = cliPath(o.repo);
  const rows: ResultRow[] = [];
  const missing: string[] = [];
  const peers: string[] = [];
  const push = (r: ResultRow): void => {
    rows.push(r);
    o.onRow?.(r);
  };
  try {
    // QEMU: each stream mutated, each mutant loaded by the release that wrote the stream.
    for (const [t, target] of QEMU_TARGETS.entries()) {
      if (o.subset && !target.subset) continue;
      const bin = qemuBinary(target.release);
      if (!bin) {
        missing.push(`QEMU ${target.release} (${target.file})`);
        continue;
      }
      if (!peers.includes(bin)) peers.push(bin);
      const bytes = new Uint8Array(readFileSync(join(o.repo, target.file)));
      const sum = inspectJson(cli, join(o.repo, target.file));
      const map = qemuRegions(bytes, sum as Parameters<typeof qemuRegions>[1]);
      const r = rng(o.seed * 1000 + t);
      const list = [...mutants(bytes, map, r, o.qemuPerStream)];
      await pool(
        o.jobs ?? 2,
        list.map((m) => async () => {
          const file = join(dir, `q${t}-${m.index}.mig`);
          writeFileSync(file, m.bytes);
          const peer = await qemuLoad(target.release as QemuRelease, target.args, file);
          const ours = oursVerify(cli, file);
          rmSync(file, { force: true });
          push(judge(base("qemu", target.release, target.file, m, ours, peer), o.known));
        }),
      );
    }
    // Xen: verify-stream-v2 as installed, and the same with its Python 3 defects corrected.
    const haveXen = spawnSync(XEN_TOOL, ["--help"], { env: { ...process.env, PYTHONPATH: XEN_PYTHONPATH } }).status === 0;
    if (!haveXen) missing.push(`Xen verify-stream-v2 (${XEN_TOOL})`);
    else {
      peers.push(XEN_TOOL);
      const shim = join(o.repo, "packages/libxl/test/peer/verify_batch.py");
      for (const [t, target] of XEN_TARGETS.entries()) {
        const bytes = new Uint8Array(readFileSync(join(o.repo, target.file)));
        const map = xenRegions(inspectJson(cli, join(o.repo, target.file)) as Parameters<typeof xenRegions>[0]);
        const list = [...mutants(bytes, map, rng(o.seed * 1000 + 500 + t), o.xenPerStream)];
        const fixed = xenVerifyFixed(shim, list.map((m) => ({ format: target.format, bytes: m.bytes })), join(dir, "batch.bin"));
        for (const [i, m] of list.entries()) {
          const file = join(dir, `x${t}-${m.index}.bin`);
          writeFileSync(file, m.bytes);
          const stock = xenVerify(XEN_TOOL, XEN_PYTHONPATH, target.format, file);
          const ours = oursVerify(cli, file);
          rmSync(file, { force: true });
          const corrected = fixed[i]!;
          const row = judge(base(target.format, "4.17", target.file, m, ours, corrected), o.known);
          if (stock.verdict !== corrected.verdict) row.peerDefect = `the stock tool says ${stock.verdict} (${stock.message}): a Python 3 defect of verify-stream-v2`;
          push(row);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed: o.seed, rows, missing, peers };
}

function base(family: string, release: string, stream: string, m: Mutant, ours: Verdict, peer: Verdict): Omit<ResultRow, "agree" | "reason"> {
  return { family, release, stream, region: m.region, damage: m.damage, what: m.what, index: m.index, ours, peer };
}

function inspectJson(cli: string, file: string): unknown {
  const r = spawnSync(process.execPath, [cli, "inspect", file, "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`vmstream inspect ${file} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Disagreements with no written reason (the peer's own defects aside): what fails a run. */
export const unexplained = (res: DifferentialResult): ResultRow[] => res.rows.filter((r) => !r.agree && !r.reason && !r.peerDefect);
