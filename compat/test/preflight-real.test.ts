/**
 * preflight against real QEMU, live: a stream saved by one release, loaded by
 * another (QEMU's verdict and message), and `vmstream preflight` on the same
 * stream against a probe and the dump of the destination's command line.
 * A subset of compat/bin/real-loads.mjs (which regenerates the committed
 * compat/real-loads.json over every pair and machine type): one
 * cross-release load and the README's refusals on QEMU 7.2. Needs the QEMU
 * peers; skips with the reason, or fails under VMSTREAM_INTEROP=required.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, describe, expect, test } from "vitest";
import { REAL_LOAD_CASES, type Release, qemuBin, readRealLoads, runRealCase } from "../src/index.js";

const bins = Object.fromEntries((["5.2", "7.2", "10.0"] as Release[]).map((r) => [r, qemuBin(r)])) as Record<Release, string | null>;
const missing = Object.entries(bins).filter(([, b]) => !b).map(([r]) => r);
const why = `preflight-real.test: no QEMU ${missing.join(", ")} (scripts/peers installs /opt/vmstream-peers/bin/qemu-system-x86_64-R)`;
if (missing.length && !interopRequired()) console.log(`${why}; skipped`);

const LIVE = [
  "7.2->10.0 pc-q35-7.2",
  "7.2->7.2 pc-q35-7.2 dest without virtio-balloon",
  "7.2->7.2 pc-q35-7.2 dest -smp 1",
  "7.2->7.2 pc-q35-7.2 dest -m 128",
  "7.2->7.2 pc-q35-7.2 dest machine pc-q35-5.2",
];

describe.skipIf(missing.length > 0 && !interopRequired())("preflight agrees with real QEMU", () => {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-preflight-real-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  if (missing.length) test("QEMU peers are installed", () => expect.fail(why));
  for (const id of LIVE) {
    test(id, async () => {
      const c = REAL_LOAD_CASES.find((x) => x.id === id)!;
      const r = await runRealCase(c, bins as Record<Release, string>, dir);
      expect(r.agree, `QEMU: ${r.real.loaded ? "loaded" : r.real.message}; preflight: ${r.preflight.loads ? "loads" : r.preflight.causes.join(" | ")}`).toBe(true);
      // The committed record says the same.
      const committed = readRealLoads()?.loads.find((x) => x.id === id);
      expect(committed?.real.loaded).toBe(r.real.loaded);
    }, 120_000);
  }
});
