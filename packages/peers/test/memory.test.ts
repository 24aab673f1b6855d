/**
 * dumpGuestMemory: what a loaded stream put in guest RAM, read back from QEMU.
 * pc-10.0-ram1m.mig carries fixtures/qemu-releases/ram-1m.bin at guest
 * physical 0x400000 (put there by -device loader when it was written).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { dumpGuestMemory, loadStream, qemuRelease, requirePeer } from "../src/index.js";
import { tempDir } from "./tmp.js";

const FIX = fileURLToPath(new URL("../../../fixtures/qemu-releases/", import.meta.url));
const dir = tempDir("memory");

describe.skipIf(!requirePeer("QEMU 10.0", qemuRelease("10.0")))("dump-guest-memory after a load", () => {
  test("the 1 MiB the stream carries is in guest RAM, without the loader", async () => {
    const load = await loadStream("10.0", ["-M", "pc-i440fx-10.0", "-m", "64"], `${FIX}10.0/pc-10.0-ram1m.mig`, [], { keep: true });
    expect(load.error).toBe("");
    const core = join(dir, "guest.core");
    try {
      await dumpGuestMemory(load.monitor, core);
    } finally {
      await load.monitor.quit();
    }
    const dump = readFileSync(core);
    expect(dump.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    const ram = readFileSync(`${FIX}ram-1m.bin`);
    const at = dump.indexOf(ram);
    expect(at, "ram-1m.bin found whole in the core").toBeGreaterThan(0);
  });
});
