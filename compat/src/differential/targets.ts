import { QEMU_RELEASES, type QemuRelease, qemuRelease } from "@vmstream/peers";

/** The QEMU binary of one release (@vmstream/peers' qemuRelease), or undefined when it is not installed. */
export function qemuBinary(release: string): string | undefined {
  return (QEMU_RELEASES as readonly string[]).includes(release) ? qemuRelease(release as QemuRelease)?.bin : undefined;
}

/** The device set of fixtures/qemu-releases/README.md (`$DEV`), accepted by 5.2, 7.2 and 10.0. */
const DEV = [
  "-device", "virtio-net-pci", "-device", "e1000e", "-device", "usb-ehci,id=ehci", "-device", "usb-tablet,bus=ehci.0",
  "-blockdev", "driver=null-co,node-name=nul0,size=1048576", "-device", "virtio-blk-pci,drive=nul0",
  "-audiodev", "none,id=a0", "-device", "intel-hda", "-device", "hda-duplex,audiodev=a0",
  "-device", "virtio-balloon", "-device", "isa-serial",
];

/** A real stream and the command line that loads it into the release that wrote it. */
export interface QemuTarget {
  release: string;
  /** Relative to the repository root. */
  file: string;
  args: string[];
  /** In the CI subset (the small streams); the device-rich ones only in the full run. */
  subset: boolean;
}

export const QEMU_TARGETS: QemuTarget[] = [
  { release: "5.2", file: "fixtures/qemu-releases/5.2/pc-5.2-stopped.mig", args: ["-M", "pc-i440fx-5.2", "-m", "64"], subset: true },
  { release: "7.2", file: "fixtures/qemu/pc-7.2-stopped.mig", args: ["-M", "pc-i440fx-7.2", "-m", "32"], subset: true },
  { release: "10.0", file: "fixtures/qemu-releases/10.0/pc-10.0-stopped.mig", args: ["-M", "pc-i440fx-10.0", "-m", "64"], subset: true },
  { release: "5.2", file: "fixtures/qemu-releases/5.2/q35-5.2-devices.mig", args: ["-M", "pc-q35-5.2", "-m", "64", "-smp", "2", ...DEV], subset: false },
  { release: "7.2", file: "fixtures/qemu-releases/cross/7.2-to-pc-q35-7.2.mig", args: ["-M", "pc-q35-7.2", "-m", "64", "-smp", "2", ...DEV], subset: false },
  { release: "10.0", file: "fixtures/qemu-releases/10.0/q35-10.0-devices.mig", args: ["-M", "pc-q35-10.0", "-m", "64", "-smp", "2", ...DEV], subset: false },
];

/** Xen streams from the independent encoder and from convert-legacy-stream (fixtures/xen/README.md). */
export const XEN_TARGETS: { file: string; format: "libxc" | "libxl" | "xl" }[] = [
  { file: "fixtures/xen/libxc_hvm_v3.bin", format: "libxc" },
  { file: "fixtures/xen/libxc_pv64_v3.bin", format: "libxc" },
  { file: "fixtures/xen/libxc_hvm_v2.bin", format: "libxc" },
  { file: "fixtures/xen/libxl_hvm_xs.bin", format: "libxl" },
  { file: "fixtures/xen/conv_pv_64_libxl.bin", format: "libxl" },
  { file: "fixtures/xen/xl_hvm.bin", format: "xl" },
];

export const XEN_TOOL = process.env.XEN_VERIFY ?? "/usr/lib/xen-4.17/bin/verify-stream-v2";
export const XEN_PYTHONPATH = process.env.XEN_PYTHON ?? "/usr/lib/xen-4.17/lib/python";
