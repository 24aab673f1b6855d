#!/usr/bin/env node
// Ground truth for the QEMU release sections of the compat matrix: save a VM
// with one real QEMU release and load it into another, forward and backward,
// for each machine type both releases have, with the device set of
// fixtures/qemu-releases/README.md; and the refusals of that README's table.
// And the capability and firmware refusals on QEMU 10.0's committed streams,
// each beside the load that succeeds. QEMU is driven by @vmstream/peers; each
// load also runs `vmstream preflight --qemu BIN -- ARGS` on the same stream
// with the destination's command line (the CLI makes its own probe and
// -dump-vmstate), so the committed file holds prediction and reality side by side.
//
//   npm run build && node compat/bin/real-loads.mjs [--out compat/real-loads.json]
//
// Needs $VMSTREAM_PEERS/bin/qemu-system-x86_64-{5.2,7.2,10.0} (scripts/peers/install.sh;
// default /opt/vmstream-peers). Takes about five minutes on a quiet 2-core machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({ options: { out: { type: "string" }, only: { type: "string" } } });
const compat = await import("../dist/index.js").catch((e) => {
  process.stderr.write(`real-loads: not built yet (run \`npm run build\`): ${e.message}\n`);
  process.exit(2);
});
const { qemuBin, COMPAT_DIR, REAL_LOAD_CASES } = compat;
const out = flags.out ?? join(COMPAT_DIR, "real-loads.json");

const bins = {};
for (const r of ["5.2", "7.2", "10.0"]) {
  bins[r] = qemuBin(r);
  if (!bins[r]) {
    process.stderr.write(`real-loads: no QEMU ${r} (install it with bash scripts/peers/install.sh)\n`);
    process.exit(2);
  }
}
const version = (r) => spawnSync(bins[r], ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];

const dir = mkdtempSync(join(tmpdir(), "vmstream-real-loads-"));
const results = [];
try {
  for (const c of REAL_LOAD_CASES) {
    if (flags.only && !c.id.includes(flags.only)) continue;
    const t0 = Date.now();
    const r = await compat.runRealCase(c, bins, dir);
    results.push(r);
    const { agree, real, preflight } = r;
    const prediction = preflight;
    const causes = preflight.causes;
    process.stderr.write(`${agree ? "agree   " : "DISAGREE"} ${c.id}: real ${real.loaded ? "loaded" : `refused (${real.message})`}; preflight ${prediction.loads ? "loads" : `refuses (${causes.join(" | ")})`} ${((Date.now() - t0) / 1000).toFixed(1)}s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const doc = {
  generated: "node compat/bin/real-loads.mjs (after npm run build); do not edit by hand",
  qemu: { "5.2": version("5.2"), "7.2": version("7.2"), "10.0": version("10.0") },
  loads: results,
};
if (!flags.only) writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
process.exitCode = results.every((r) => r.agree) ? 0 : 1;
