/**
 * preflight against real QEMU, live: a stream saved by one release (or a
 * committed capability stream), loaded by another (QEMU's verdict and
 * message, through @vmstream/peers), and `vmstream preflight --qemu` on the
 * same stream with the destination's command line (the CLI makes its own
 * probe and dump). Every refusal of issue 16 — machine type (one the
 * destination lacks, another one it has), a missing device, RAM size, vCPU
 * count, UUID under validate-uuid, mapped-ram and postcopy without the
 * capability, a firmware of another size — and cross-release loads in both
 * directions. A subset of compat/bin/real-loads.mjs, which regenerates the
 * committed compat/real-loads.json over every pair and machine type. Needs
 * the QEMU peers; skips with the reason, or fails under VMSTREAM_INTEROP=required.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, describe, expect, test } from "vitest";
import { COMPAT_DIR, FIXTURES, REAL_LOAD_CASES, type Release, machineArgs, qemuBin, readRealLoads, runRealCase } from "../src/index.js";

const bins = Object.fromEntries((["5.2", "7.2", "10.0"] as Release[]).map((r) => [r, qemuBin(r)])) as Record<Release, string | null>;
const missing = Object.entries(bins).filter(([, b]) => !b).map(([r]) => r);
const why = `preflight-real.test: no QEMU ${missing.join(", ")} (scripts/peers installs /opt/vmstream-peers/bin/qemu-system-x86_64-R)`;
if (missing.length && !interopRequired()) console.log(`${why}; skipped`);

const LIVE = [
  // Loads across releases, forward and backward.
  "7.2->10.0 pc-q35-7.2",
  "10.0->7.2 pc-q35-7.2",
  "7.2->5.2 pc-q35-5.2",
  // Refusals.
  "7.2->7.2 pc-q35-7.2 dest without virtio-balloon",
  "7.2->7.2 pc-q35-7.2 dest -smp 1",
  "7.2->7.2 pc-q35-7.2 dest -m 128",
  "7.2->7.2 pc-q35-7.2 dest machine pc-q35-5.2",
  "10.0->7.2 pc-i440fx-10.0 unsupported machine type",
  "7.2->10.0 pc-i440fx-7.2 another -uuid with validate-uuid",
  "10.0->10.0 pc-i440fx-10.0 mapped-ram file, dest without mapped-ram",
  "10.0->10.0 pc-i440fx-10.0 postcopy stream, dest without postcopy-ram",
  "10.0->10.0 pc-i440fx-10.0 xbzrle stream (64 KiB firmware), dest with the default firmware",
  // The same streams once the destination matches.
  "10.0->10.0 pc-i440fx-10.0 mapped-ram file, dest with mapped-ram",
  "10.0->10.0 pc-i440fx-10.0 postcopy stream, dest with postcopy-ram",
  "10.0->10.0 pc-i440fx-10.0 xbzrle stream (64 KiB firmware), dest with the same firmware",
];

describe.skipIf(missing.length > 0 && !interopRequired())("preflight agrees with real QEMU", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-preflight-real-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (missing.length) test("QEMU peers are installed", () => expect.fail(why));
  for (const id of LIVE) {
    test(id, async () => {
      const c = REAL_LOAD_CASES.find((x) => x.id === id);
      expect(c, `no real-load case ${id}`).toBeDefined();
      const r = await runRealCase(c!, bins as Record<Release, string>, dir);
      expect(r.agree, `QEMU: ${r.real.loaded ? "loaded" : r.real.message}; preflight: ${r.preflight.loads ? "loads" : r.preflight.causes.join(" | ")}`).toBe(true);
      // The committed record says the same, verdict and prediction.
      const committed = readRealLoads()?.loads.find((x) => x.id === id);
      expect(committed?.real.loaded).toBe(r.real.loaded);
      expect(committed?.preflight.loads).toBe(r.preflight.loads);
    }, 120_000);
  }
  test("--qemu on a destination that does not start (a 10.0 machine type on QEMU 7.2): refused, exit 1, QEMU's start-up error as the cause", () => {
    const cli = join(COMPAT_DIR, "..", "packages", "cli", "bin", "vmstream.cjs");
    const stream = join(FIXTURES, "10.0", "pc-10.0-stopped.mig");
    const r = spawnSync(process.execPath, [cli, "preflight", stream, "--qemu", bins["7.2"]!, "--", "-M", "pc-i440fx-10.0", "-m", "64", "-nodefaults"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout.split("\n")[0]).toMatch(/^refused: the destination does not start: unsupported machine type/);
  }, 120_000);
  test("--qemu makes the probe and the dump itself: the cross/ 10.0 stream on QEMU 7.2 with -m 128 and no balloon", () => {
    const args = machineArgs("pc-q35-7.2").map((x, i, a) => (a[i - 1] === "-m" ? "128" : x));
    const noBalloon = args.filter((x, i) => x !== "virtio-balloon" && !(x === "-device" && args[i + 1] === "virtio-balloon"));
    const cli = join(COMPAT_DIR, "..", "packages", "cli", "bin", "vmstream.cjs");
    const r = spawnSync(process.execPath, [cli, "preflight", join(FIXTURES, "cross", "10.0-to-pc-q35-7.2.mig"), "--qemu", bins["7.2"]!, "--", ...noBalloon], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(1);
    // In QEMU's order: the ram section comes first in the stream.
    expect(r.stdout.split("\n").slice(0, 2)).toEqual([
      "refused: Size mismatch: pc.ram: 0x4000000 != 0x8000000: Invalid argument",
      "refused: Unknown savevm section or instance '0000:00:06.0/virtio-balloon' 0. Make sure that your current VM setup matches your saved VM setup, including any hotplugged devices",
    ]);
  }, 120_000);
});
