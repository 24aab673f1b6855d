/**
 * Real cross-release migration through loadStream: the fixtures' pc-q35-7.2
 * streams load into the other release, and a destination that differs is
 * refused with QEMU's words (fixtures/qemu-releases/README.md lists them).
 */
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { loadStream, qemuRelease, requirePeer } from "../src/index.js";

const CROSS = fileURLToPath(new URL("../../../fixtures/qemu-releases/cross/", import.meta.url));
// $DEV of the fixtures README, on -M pc-q35-7.2 -m 64 -smp 2.
const Q35_72 = [
  ["-M", "pc-q35-7.2", "-m", "64", "-smp", "2"],
  ["-device", "virtio-net-pci", "-device", "e1000e", "-device", "usb-ehci,id=ehci", "-device", "usb-tablet,bus=ehci.0"],
  ["-blockdev", "driver=null-co,node-name=nul0,size=1048576", "-device", "virtio-blk-pci,drive=nul0"],
  ["-audiodev", "none,id=a0", "-device", "intel-hda", "-device", "hda-duplex,audiodev=a0", "-device", "virtio-balloon", "-device", "isa-serial"],
].flat();

const both = requirePeer("QEMU 7.2", qemuRelease("7.2")) && requirePeer("QEMU 10.0", qemuRelease("10.0"));

describe.skipIf(!both)("7.2 ⇄ 10.0 on pc-q35-7.2", () => {
  test("10.0's stream loads into 7.2 and 7.2's into 10.0", async () => {
    const into72 = await loadStream("7.2", Q35_72, `${CROSS}10.0-to-pc-q35-7.2.mig`);
    expect(into72.error).toBe("");
    expect(into72.ok).toBe(true);
    const into100 = await loadStream("10.0", Q35_72, `${CROSS}7.2-to-pc-q35-7.2.mig`);
    expect(into100.error).toBe("");
    expect(into100.ok).toBe(true);
  });

  test("refusals carry QEMU's message: a missing device, -smp 1, a 10.0 machine type on 7.2", async () => {
    const file = `${CROSS}7.2-to-pc-q35-7.2.mig`;
    const noBalloon = Q35_72.filter((a, i) => a !== "virtio-balloon" && Q35_72[i + 1] !== "virtio-balloon");
    const a = await loadStream("7.2", noBalloon, file);
    expect(a.ok).toBe(false);
    expect(a.error).toContain("Unknown savevm section or instance '0000:00:06.0/virtio-balloon' 0");
    const b = await loadStream("10.0", Q35_72.map((x) => (x === "2" ? "1" : x)), file);
    expect(b.ok).toBe(false);
    expect(b.error).toContain("Unknown savevm section or instance 'cpu_common' 1");
    const c = await loadStream("7.2", ["-M", "pc-i440fx-10.0", "-m", "64"], file);
    expect(c.ok).toBe(false);
    expect(c.error).toContain("unsupported machine type");
  });
});
