/**
 * One real load and its prediction: save with the source release, load into
 * the destination release (QEMU's verdict), and run `vmstream preflight` on
 * the same stream against a probe and the -dump-vmstate of the destination's
 * command line. Used by bin/real-loads.mjs and test/preflight-real.test.ts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { COMPAT_DIR } from "../files.js";
import type { Release } from "./dumps.js";
import { dumpVmstate, loadVm, machineArgs, saveVm } from "./qemu.js";
import type { RealLoadCase } from "./real-cases.js";
import type { RealLoad } from "./render.js";

const CLI = join(COMPAT_DIR, "..", "packages", "cli", "bin", "vmstream.js");

export interface RealLoadResult extends RealLoad {
  source: string;
  destination: string;
  streamSha256: string;
}

export async function runRealCase(c: RealLoadCase, bins: Record<Release, string>, dir: string): Promise<RealLoadResult> {
  const src = join(dir, "src.mig");
  const probe = join(dir, "probe.mig");
  const dump = join(dir, "dest.json");
  for (const f of [src, probe, dump]) rmSync(f, { force: true });
  const srcArgs = c.sourceArgs ?? machineArgs(c.machine);
  const dstArgs = c.destArgs ?? srcArgs;
  await saveVm(bins[c.from], srcArgs, src, { runMs: 1000, capabilities: c.sourceCapabilities ?? [] });
  const real = await loadVm(bins[c.to], dstArgs, src, c.destCapabilities ?? []);
  let loads: boolean;
  let causes: string[];
  try {
    await saveVm(bins[c.to], dstArgs, probe, { capabilities: c.sourceCapabilities?.includes("validate-uuid") ? ["validate-uuid"] : [] });
    const haveDump = await dumpVmstate(bins[c.to], dstArgs, dump);
    const pf = spawnSync(process.execPath, [CLI, "preflight", src, "--against", probe, ...(haveDump ? ["--dump", dump] : []), "--json"], { encoding: "utf8" });
    const doc = JSON.parse(pf.stdout) as { loads: boolean; causes: { message: string; fatal: boolean }[] };
    loads = doc.loads;
    causes = doc.causes.filter((x) => x.fatal).map((x) => x.message);
  } catch (e) {
    // A destination that cannot start (a machine type it lacks) makes no probe: its start-up error is the cause.
    loads = false;
    causes = [`the destination does not start: ${String((e as Error).message).split("\n")[0]}`];
  }
  // The same verdict, and a refusal's cause is QEMU's first message (or its start-up error).
  const first = real.message.split(" / ")[0] ?? "";
  const agree = loads === real.loaded && (real.loaded || causes.some((m) => real.message.includes(m.split(". Make sure")[0]!.split(" (")[0]!) || (first !== "" && m.includes(first))));
  return {
    id: c.id,
    from: c.from,
    to: c.to,
    machine: c.machine,
    change: c.change ?? null,
    source: `qemu-system-x86_64 ${srcArgs.join(" ")}${c.sourceCapabilities?.length ? ` [capabilities ${c.sourceCapabilities.join(",")}]` : ""}`,
    destination: `qemu-system-x86_64 ${dstArgs.join(" ")} -incoming defer`,
    streamSha256: createHash("sha256").update(readFileSync(src)).digest("hex"),
    real,
    preflight: { loads, causes },
    agree,
  };
}
