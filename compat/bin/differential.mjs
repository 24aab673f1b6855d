#!/usr/bin/env node
// `npm run differential`: mutate real streams with a seed, load every mutant
// into the real loader (QEMU 5.2, 7.2 and 10.0 for the streams each wrote;
// Xen's verify-stream-v2 for libxc/libxl/xl streams) and into `vmstream
// verify`, and tabulate where the verdicts agree, by region and kind of damage.
//
//   node compat/bin/differential.mjs [--seed N] [--qemu N] [--xen N] [--subset] [--markdown FILE] [--jobs N]
//
// Exit 1 when a disagreement has no written reason in
// compat/differential-known.json, or when a peer is missing under
// VMSTREAM_INTEROP=required.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    qemu: { type: "string" },
    xen: { type: "string" },
    subset: { type: "boolean" },
    markdown: { type: "string" },
    jobs: { type: "string", default: "2" },
    quiet: { type: "boolean" },
  },
});
const repo = fileURLToPath(new URL("../..", import.meta.url));
const d = await import("../dist/differential/index.js");
const seed = Number(flags.seed);
const subset = Boolean(flags.subset);
const opts = {
  repo,
  seed,
  subset,
  // Full run: 6 QEMU streams × 340 = 2040 mutants; the subset: 3 × 34 = 102, and 6 × 17 = 102 Xen mutants.
  qemuPerStream: Number(flags.qemu ?? (subset ? 34 : 340)),
  xenPerStream: Number(flags.xen ?? (subset ? 17 : 60)),
  jobs: Number(flags.jobs),
  known: d.readKnownDisagreements(join(repo, "compat/differential-known.json")),
  onRow: flags.quiet ? undefined : (r) => process.stderr.write(r.agree || r.peerDefect ? "." : r.reason ? "e" : "X"),
};
console.log(`differential: seed ${seed} (replay with --seed ${seed})`);
const res = await d.runDifferential(opts);
if (!flags.quiet) process.stderr.write("\n");
const text = d.renderDifferential(res);
process.stdout.write(text);
if (flags.markdown) writeFileSync(flags.markdown, text);
const bad = d.unexplained(res);
const required = process.env.VMSTREAM_INTEROP === "required";
if (bad.length) console.log(`${bad.length} unexplained disagreement(s)`);
if (required && res.missing.length) console.log(`missing peers under VMSTREAM_INTEROP=required: ${res.missing.join("; ")}`);
process.exitCode = bad.length || (required && res.missing.length) ? 1 : 0;
