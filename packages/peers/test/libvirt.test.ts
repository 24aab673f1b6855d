import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Libvirt, qemuRelease, requirePeer, startLibvirt, virsh, which } from "../src/index.js";
import { tempDir } from "./tmp.js";

const dir = tempDir("libvirt");
// libvirt's system driver needs root (CI runs as root).
const root = process.getuid?.() === 0;
const present =
  requirePeer("libvirtd", which("libvirtd")) && requirePeer("virsh", which("virsh")) && requirePeer("QEMU 7.2", qemuRelease("7.2")) && requirePeer("root (for qemu:///system)", root);

// A guest with no disk at all: TCG, 64 MiB, the machine type of bookworm's QEMU.
const NAME = `vmstream-peers-${process.pid}`;
const DOMAIN = `<domain type='qemu'>
  <name>${NAME}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <memballoon model='none'/>
  </devices>
</domain>
`;

describe.skipIf(!present)("libvirt (Debian libvirt-daemon-system 9.0) without systemd", () => {
  let lv: Libvirt | undefined;
  beforeAll(async () => {
    lv = await startLibvirt();
  });
  afterAll(async () => {
    await virsh(["destroy", NAME]);
    await virsh(["undefine", NAME]);
    await lv?.stop();
  });

  test("define, start, save, restore, destroy a tiny TCG domain", async () => {
    const xml = join(dir, "domain.xml");
    writeFileSync(xml, DOMAIN);
    const ok = async (args: string[]) => {
      const r = await virsh(args);
      expect(r.code, `virsh ${args.join(" ")}: ${r.stderr}`).toBe(0);
      return r.stdout;
    };
    await ok(["define", xml]);
    await ok(["start", NAME]);
    const save = join(dir, "tiny.save");
    await ok(["save", NAME, save]);
    expect(readFileSync(save).subarray(0, 16).toString("latin1")).toBe("LibvirtQemudSave");
    expect(await ok(["domstate", NAME])).toMatch(/shut off/);
    await ok(["restore", save]);
    expect(await ok(["domstate", NAME, "--reason"])).toMatch(/running \(restored\)/);
    await ok(["destroy", NAME]);
    await ok(["undefine", NAME]);
  });
});
