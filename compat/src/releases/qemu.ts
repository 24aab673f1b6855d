/**
 * The QEMU command lines of the real loads. QEMU itself is driven by
 * @vmstream/peers (the tests' one QEMU driver: saveStream, loadStream) and,
 * for the destination probe, by `vmstream preflight --qemu` (the CLI's own,
 * published probe); see docs/architecture.md, "Driving real QEMU".
 */
import { type QemuRelease, qemuRelease } from "@vmstream/peers";
import type { Release } from "./dumps.js";

/** The release's binary as scripts/peers installed it (checked to be that release), or null. */
export function qemuBin(r: Release): string | null {
  return qemuRelease(r as QemuRelease)?.bin ?? null;
}

/** The device set of fixtures/qemu-releases/README.md ($DEV), accepted by all three releases. */
export const DEVICES = [
  "-device", "virtio-net-pci",
  "-device", "e1000e",
  "-device", "usb-ehci,id=ehci",
  "-device", "usb-tablet,bus=ehci.0",
  "-blockdev", "driver=null-co,node-name=nul0,size=1048576",
  "-device", "virtio-blk-pci,drive=nul0",
  "-audiodev", "none,id=a0",
  "-device", "intel-hda",
  "-device", "hda-duplex,audiodev=a0",
  "-device", "virtio-balloon",
  "-device", "isa-serial",
];

/** `-M machine -m 64 -smp 2 $DEV`, the command line of the README's q35 streams. */
export const machineArgs = (machine: string, extra: string[] = []): string[] => ["-M", machine, "-m", "64", "-smp", "2", "-nodefaults", ...DEVICES, ...extra];
