import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { QEMU_RELEASES, analyzeMigration, loadStream, qemuRelease, requirePeer, saveStream, staticChecker } from "../src/index.js";
import { tempDir } from "./tmp.js";

const run = promisify(execFile);
const dir = tempDir("qemu");

// What `-dump-vmstate` lists for -M pc-i440fx-R (the fixtures' dumps/vmstate-R.json).
const DEVICES = { "5.2": 208, "7.2": 214, "10.0": 231 } as const;

describe.each(QEMU_RELEASES)("QEMU %s", (r) => {
  const peer = qemuRelease(r);
  const present = requirePeer(`QEMU ${r}`, peer);
  const machine = ["-M", `pc-i440fx-${r}`, "-m", "32"];

  test.skipIf(!present)("is the release it claims, from Debian", () => {
    expect(peer!.version).toMatch(new RegExp(`^${r.replace(".", "\\.")}\\.\\d+ \\(Debian 1:${r.replace(".", "\\.")}`));
  });

  test.skipIf(!present)(`-dump-vmstate lists ${DEVICES[r]} devices (its own modules, no foreign one)`, async () => {
    const file = join(dir, `vmstate-${r}.json`);
    await run(peer!.bin, ["-M", `pc-i440fx-${r}`, "-display", "none", "-dump-vmstate", file]);
    const dump = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    expect(Object.keys(dump).filter((k) => k !== "vmschkmachine")).toHaveLength(DEVICES[r]);
  });

  test.skipIf(!present)("saves a paused pc-i440fx and loads it back; refuses a different RAM size with QEMU's message", async () => {
    const file = join(dir, `pc-${r}.mig`);
    const info = await saveStream(r, [...machine, "-S"], file);
    expect(info).toMatch(/Migration status:\s*completed/);
    expect(readFileSync(file).subarray(0, 8)).toEqual(Buffer.from([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3])); // "QEVM", version 3
    const back = await loadStream(r, machine, file);
    expect(back.error).toBe("");
    expect(back.ok).toBe(true);
    expect(back.status).toMatch(/VM status: paused/);
    const bigger = await loadStream(r, ["-M", `pc-i440fx-${r}`, "-m", "64"], file);
    expect(bigger.ok).toBe(false);
    expect(bigger.error).toContain("Size mismatch: pc.ram: 0x2000000 != 0x4000000");
  });
});

describe("QEMU's Python scripts", () => {
  for (const r of ["7.2", "10.0"] as const) {
    const script = analyzeMigration(r);
    const present = requirePeer(`QEMU ${r}'s analyze-migration.py`, script) && requirePeer(`QEMU ${r}`, qemuRelease(r));
    test.skipIf(!present)(`${r}'s analyze-migration.py reads a stream QEMU ${r} wrote`, async () => {
      const file = join(dir, `analyze-${r}.mig`);
      await saveStream(r, ["-M", `pc-i440fx-${r}`, "-m", "32", "-S"], file);
      const { stdout } = await run("python3", [script!, "-f", file, "-d", "state"], { maxBuffer: 1 << 26 });
      const state = JSON.parse(stdout) as Record<string, unknown>;
      expect(Object.keys(state).some((k) => k.startsWith("mc146818rtc"))).toBe(true);
    });
  }
  const checker = staticChecker();
  test.skipIf(!requirePeer("QEMU 10.0's vmstate-static-checker.py", checker))("vmstate-static-checker.py runs", async () => {
    const { stdout } = await run("python3", [checker!, "--help"]);
    expect(stdout).toMatch(/usage:/);
  });
});
