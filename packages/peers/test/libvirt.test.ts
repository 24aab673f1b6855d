import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Libvirt, qemuRelease, requirePeer, startLibvirt, virsh, which } from "../src/index.js";
import { vmstream } from "./cli.js";
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

  /*
   * libvirt restores save images vmstream wrote (issue 17): the QEMU stream of
   * a fixture save image, wrapped by `vmstream wrap-save` around a new domain
   * XML (own name, UUID and disk), raw, xz, bzip2 and lzop (libvirt runs
   * `bzip2 -dc` and `lzop -dc` itself); a cut stream is the control.
   * Here, in the same file as the test above, so the two never share or stop
   * each other's libvirtd.
   */
  const FIXTURE = join(import.meta.dirname, "../../../fixtures/artefacts/libvirt-9.0-raw.save");
  test.for(["raw", "xz", "bzip2", "lzop", "cut"])("virsh restore of a %s save image vmstream wrote", { timeout: 180_000 }, async (kind) => {
    chmodSync(dir, 0o755); // QEMU runs as libvirt-qemu and must reach the disk
    const j = JSON.parse((await vmstream(["inspect", FIXTURE, "--json", "--xml"])).stdout);
    const name = `vmstream-restore-${kind}-${process.pid}`;
    const disk = join(dir, `${name}.qcow2`);
    expect(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", disk, "64M"]).status).toBe(0);
    chmodSync(disk, 0o666);
    const xml = (j.container.xml as string)
      .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
      .replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${randomUUID()}</uuid>`)
      .replace(/<source file='[^']*'/, `<source file='${disk}'`);
    expect(xml).toContain(disk);
    writeFileSync(join(dir, `${name}.xml`), xml);
    writeFileSync(join(dir, `${name}.cookie`), j.container.cookie);
    const stream = join(dir, `${name}.mig`);
    expect((await vmstream(["extract", FIXTURE, stream])).code).toBe(0);
    // The control: a stream cut short must make the restore fail, or the passes prove nothing.
    if (kind === "cut") writeFileSync(stream, readFileSync(stream).subarray(0, 400_000));
    const image = join(dir, `${name}.save`);
    const w = await vmstream(["wrap-save", "--xml", join(dir, `${name}.xml`), "--cookie", join(dir, `${name}.cookie`), "--compress", kind === "cut" ? "raw" : kind, stream, image]);
    expect(w.stderr).toBe("");
    expect((await vmstream(["verify", image])).code).toBe(kind === "cut" ? 1 : 0);
    const r = await virsh(["restore", image]);
    try {
      if (kind === "cut") {
        expect(r.code, "libvirt restored a cut stream").not.toBe(0);
        return;
      }
      expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
      expect((await virsh(["domstate", name, "--reason"])).stdout.trim()).toBe("running (restored)");
    } finally {
      await virsh(["destroy", name], 30_000);
    }
  });
});
