/**
 * loadStream's two ways in: `-incoming defer` then `migrate_incoming` (the
 * default), and `-incoming URI` on the command line (incoming: "argument"),
 * as a user restores a file and as compat's differential loads its mutants.
 * Both must reach the same verdict on the same stream; a refused stream ends
 * QEMU on the command-line route; a load that takes too long is `timedOut`,
 * never an exception, and leaves no QEMU behind.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { type QemuRelease, loadStream, qemuRelease, requirePeer } from "../src/index.js";
import { tempDir } from "./tmp.js";

const dir = tempDir("incoming");
const FIX = new URL("../../../fixtures/", import.meta.url).pathname;

/** A stopped guest saved by each release, and the command line that loads it (compat/src/differential/targets.ts). */
const STOPPED: Record<QemuRelease, { file: string; args: string[] }> = {
  "5.2": { file: `${FIX}qemu-releases/5.2/pc-5.2-stopped.mig`, args: ["-M", "pc-i440fx-5.2", "-m", "64"] },
  "7.2": { file: `${FIX}qemu/pc-7.2-stopped.mig`, args: ["-M", "pc-i440fx-7.2", "-m", "32"] },
  "10.0": { file: `${FIX}qemu-releases/10.0/pc-10.0-stopped.mig`, args: ["-M", "pc-i440fx-10.0", "-m", "64"] },
};

describe.each(Object.keys(STOPPED) as QemuRelease[])("QEMU %s", (r) => {
  const present = requirePeer(`QEMU ${r}`, qemuRelease(r));
  const { file, args } = STOPPED[r];

  test.skipIf(!present)("loads a stream the same way from the command line as through migrate_incoming", { timeout: 120_000 }, async () => {
    const deferred = await loadStream(r, args, file);
    const argument = await loadStream(r, args, file, [], { incoming: "argument" });
    expect(deferred.error).toBe("");
    expect(argument.error).toBe("");
    expect([argument.ok, argument.timedOut]).toEqual([true, false]);
    expect(argument.status).toMatch(/^VM status: /);
    expect(argument.status).toBe(deferred.status);
  });

  test.skipIf(!present)("a stream cut short: refused both ways; from the command line QEMU exits, with its message", { timeout: 120_000 }, async () => {
    const cut = join(dir, `cut-${r}.mig`);
    const bytes = readFileSync(file);
    writeFileSync(cut, bytes.subarray(0, bytes.byteLength >> 1));
    const deferred = await loadStream(r, args, cut);
    const argument = await loadStream(r, args, cut, [], { incoming: "argument" });
    expect([deferred.ok, deferred.timedOut]).toEqual([false, false]);
    expect([argument.ok, argument.timedOut]).toEqual([false, false]);
    expect(argument.monitor.exitCode, argument.error).not.toBeNull();
    expect(argument.monitor.exitSignal).toBeNull();
    expect(argument.error).not.toBe("");
  });

  test.skipIf(!present)("a load past its time limit is timedOut, and its QEMU is gone", { timeout: 60_000 }, async () => {
    // 1 ms: QEMU cannot print its first prompt that soon.
    const r1 = await loadStream(r, args, file, [], { incoming: "argument", timeoutMs: 1 });
    expect([r1.ok, r1.timedOut]).toEqual([false, true]);
    expect(r1.error).toMatch(/after 1 ms/);
    expect(r1.monitor.exitCode).not.toBeNull();
  });
});

test("capabilities need -incoming defer: asked with incoming: argument, loadStream says so", async () => {
  const r = (["10.0", "7.2", "5.2"] as const).find((x) => qemuRelease(x));
  if (!requirePeer("any QEMU release", r)) return;
  await expect(loadStream(r!, STOPPED[r!].args, STOPPED[r!].file, ["mapped-ram"], { incoming: "argument" })).rejects.toThrow(/capabilities need incoming: defer/);
});
