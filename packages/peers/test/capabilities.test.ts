/**
 * loadStream with destination capabilities: the capability streams QEMU 10.0
 * wrote (fixtures/qemu-releases/10.0) load only when the destination sets what
 * the source did, and are refused with QEMU's own message otherwise.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { loadStream, qemuRelease, requirePeer } from "../src/index.js";

const FIX = fileURLToPath(new URL("../../../fixtures/qemu-releases/10.0/", import.meta.url));
const pc = (mib: number) => ["-M", "pc-i440fx-10.0", "-m", String(mib)];

describe.skipIf(!requirePeer("QEMU 10.0", qemuRelease("10.0")))("QEMU 10.0 loads its capability streams", () => {
  test("postcopy-ram: with the capability; without it, QEMU's refusal", async () => {
    const file = `${FIX}pc-10.0-postcopy.mig`;
    const yes = await loadStream("10.0", pc(64), file, ["postcopy-ram"]);
    expect(yes.error).toBe("");
    expect(yes.ok).toBe(true);
    const no = await loadStream("10.0", pc(64), file);
    expect(no.ok).toBe(false);
    expect(no.error).toContain("RAM postcopy is disabled but have 16 byte advise");
  });

  test("mapped-ram (file: URI), alone and with multifd; without it, QEMU's refusal", async () => {
    const file = `${FIX}pc-10.0-mappedram-m16.mig`;
    const yes = await loadStream("10.0", pc(16), file, ["mapped-ram"]);
    expect(yes.error).toBe("");
    expect(yes.ok).toBe(true);
    const multi = await loadStream("10.0", pc(16), `${FIX}pc-10.0-mappedram-multifd-m16.mig`, ["mapped-ram", "multifd"], { params: { "multifd-channels": 2 } });
    expect(multi.error).toBe("");
    expect(multi.ok).toBe(true);
    const no = await loadStream("10.0", pc(16), `file:${file}`);
    expect(no.ok).toBe(false);
    expect(no.error).toContain("Capability mapped-ram is off, but received capability is on");
  });

  test("xbzrle: with its firmware; with the default firmware, QEMU's refusal", async () => {
    const file = `${FIX}pc-10.0-xbzrle.mig`;
    const yes = await loadStream("10.0", [...pc(64), "-bios", `${FIX}dirtier-bios.bin`], file);
    expect(yes.error).toBe("");
    expect(yes.ok).toBe(true);
    const no = await loadStream("10.0", pc(64), file);
    expect(no.ok).toBe(false);
    expect(no.error).toContain("Size mismatch: pc.bios: 0x10000 != 0x40000");
  });
});
