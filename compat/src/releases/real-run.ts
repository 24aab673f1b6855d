/**
 * One real load and its prediction: save with the source release (or take a
 * committed stream), load into the destination release (QEMU's verdict,
 * through @vmstream/peers), and run `vmstream preflight --qemu` on the same
 * stream with the destination's command line: the CLI makes its own probe and
 * -dump-vmstate, as a user would. Used by bin/real-loads.mjs and
 * test/preflight-real.test.ts.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { loadStream, saveStream } from "@vmstream/peers";
import { COMPAT_DIR } from "../files.js";
import { FIXTURES } from "./dumps.js";
import { machineArgs } from "./qemu.js";
import type { RealLoadCase } from "./real-cases.js";
import type { RealLoad } from "./render.js";

const CLI = join(COMPAT_DIR, "..", "packages", "cli", "bin", "vmstream.cjs");

export interface RealLoadResult extends RealLoad {
  source: string;
  destination: string;
  streamSha256: string;
}

/** QEMU's message lines, one string: warnings left out, as QEMU's users read the error. */
const qemuMessage = (error: string): string =>
  error
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("warning:"))
    .join(" / ");

/** `vmstream preflight STREAM --qemu BIN -- ARGS` with the destination's settings: its verdict and fatal causes. */
export function predict(stream: string, bin: string, args: readonly string[], destCapabilities: readonly string[]): { loads: boolean; causes: string[] } {
  // The destination's migration settings are not on its command line: say them (the probe cannot know them).
  const settings = [...(destCapabilities.length ? ["--capability", destCapabilities.join(",")] : []), ...(destCapabilities.includes("postcopy-ram") ? ["--postcopy"] : [])];
  const pf = spawnSync(process.execPath, [CLI, "preflight", stream, "--json", ...settings, "--qemu", bin, "--", ...args], { encoding: "utf8", timeout: 300_000 });
  // A destination that does not start (a machine type it lacks) is a refusal too: exit 1, its start-up error the cause.
  if (pf.status !== 0 && pf.status !== 1) throw new Error(`vmstream preflight failed (exit ${pf.status}): ${pf.stderr.trim()}`);
  const doc = JSON.parse(pf.stdout) as { loads: boolean; causes: { message: string; fatal: boolean }[] };
  return { loads: doc.loads, causes: doc.causes.filter((x) => x.fatal).map((x) => x.message) };
}

export async function runRealCase(c: RealLoadCase, bins: Record<string, string>, dir: string): Promise<RealLoadResult> {
  const src = c.sourceFile ? join(FIXTURES, c.sourceFile) : join(dir, "src.mig");
  const srcArgs = c.sourceArgs ?? machineArgs(c.machine);
  const dstArgs = c.destArgs ?? srcArgs;
  if (!c.sourceFile) {
    rmSync(src, { force: true });
    await saveStream(c.from, srcArgs, src, c.sourceCapabilities ?? [], {}, 1000);
  }
  const destCaps = c.destCapabilities ?? [];
  const load = await loadStream(c.to, dstArgs, c.loadUri === "file" ? `file:${src}` : src, destCaps);
  const real = { loaded: load.ok, message: load.ok ? "" : qemuMessage(load.error) || `QEMU ended the load in state ${load.status}` };
  const { loads, causes } = predict(src, bins[c.to]!, dstArgs, destCaps);
  // The same verdict, and a refusal's cause is QEMU's first message (or its start-up error).
  const first = real.message.split(" / ")[0] ?? "";
  const agree = loads === real.loaded && (real.loaded || causes.some((m) => real.message.includes(m.split(". Make sure")[0]!.split(" (")[0]!) || (first !== "" && m.includes(first))));
  return {
    id: c.id,
    from: c.from,
    to: c.to,
    machine: c.machine,
    change: c.change ?? null,
    source: c.sourceFile
      ? `fixtures/qemu-releases/${c.sourceFile} (${c.sourceNote ?? `written by QEMU ${c.from}`})`
      : `qemu-system-x86_64 ${srcArgs.join(" ")}${c.sourceCapabilities?.length ? ` [capabilities ${c.sourceCapabilities.join(",")}]` : ""}`,
    destination: `qemu-system-x86_64 ${dstArgs.join(" ").split(FIXTURES).join("fixtures/qemu-releases")} -incoming defer${destCaps.length ? ` [capabilities ${destCaps.join(",")}]` : ""}`,
    streamSha256: createHash("sha256").update(readFileSync(src)).digest("hex"),
    real,
    preflight: { loads, causes },
    agree,
  };
}
