import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { vmstream } from "./run.js";

/*
 * libvirt restores what vmstream wrote: the QEMU stream of a fixture save
 * image, wrapped by `vmstream wrap-save` around a new domain XML (own name,
 * UUID and disk) raw and xz-compressed, then `virsh restore` and the domain
 * must be "running (restored)". libvirtd and virtlogd are started here with
 * their own log files when none is running (and stopped again, by the pids
 * they wrote, only if this test started them); `type='qemu'`, no KVM needed.
 * Without libvirt this prints why and skips, except under
 * VMSTREAM_INTEROP=required, where it fails.
 */
const dir = mkdtempSync(join(tmpdir(), "vmstream-libvirt-"));
chmodSync(dir, 0o755); // QEMU runs as libvirt-qemu and must reach the disk
const VIRSH = ["-c", "qemu:///system"];
const virsh = (args: string[], timeout = 120_000) => spawnSync("virsh", [...VIRSH, ...args], { encoding: "utf8", timeout });
const alive = () => virsh(["version"], 10_000).status === 0;
const started: number[] = [];
let why = "";

async function startLibvirt(): Promise<string> {
  for (const t of ["virsh", "/usr/sbin/libvirtd", "/usr/sbin/virtlogd"]) {
    if (spawnSync(t, ["--version"]).status !== 0) return `${t} is not installed (Debian libvirt-daemon-system, libvirt-clients)`;
  }
  if (alive()) return "";
  const env = (name: string) => ({ ...process.env, LIBVIRT_LOG_OUTPUTS: `3:file:${join(dir, `${name}.log`)}` });
  for (const [daemon, pidFile] of [["virtlogd", "/run/virtlogd.pid"], ["libvirtd", "/run/libvirtd.pid"]] as const) {
    const running = existsSync(pidFile) && spawnSync("kill", ["-0", readFileSync(pidFile, "utf8").trim()]).status === 0;
    if (running) continue;
    const r = spawnSync(`/usr/sbin/${daemon}`, ["-d"], { env: env(daemon), timeout: 30_000 });
    if (r.status !== 0) return `${daemon} -d failed: ${r.stderr}`;
    for (let i = 0; i < 50 && !existsSync(pidFile); i++) await new Promise((res) => setTimeout(res, 100));
    if (existsSync(pidFile)) started.push(Number(readFileSync(pidFile, "utf8").trim()));
  }
  for (let i = 0; i < 60; i++) {
    if (alive()) return "";
    await new Promise((res) => setTimeout(res, 250));
  }
  return `libvirtd did not answer within 15 s (log: ${existsSync(join(dir, "libvirtd.log")) ? readFileSync(join(dir, "libvirtd.log"), "utf8").slice(-500) : "none"})`;
}

beforeAll(async () => {
  why = await startLibvirt();
  if (why) {
    if (interopRequired()) throw new Error(`VMSTREAM_INTEROP=required: ${why}`);
    console.info(`skip: libvirt restore round trip: ${why}`);
  }
}, 60_000);

afterAll(() => {
  // Only the daemons this test started, newest first, by the pids they wrote.
  for (const pid of started.reverse()) spawnSync("kill", ["-TERM", String(pid)]);
  rmSync(dir, { recursive: true, force: true });
});

const A = "fixtures/artefacts";

describe("virsh restore of save images vmstream wrote", () => {
  it.for(["raw", "xz", "cut"])("%s", { timeout: 180_000 }, async (compress, ctx) => {
    if (why) return ctx.skip();
    const j = JSON.parse((await vmstream(["inspect", `${A}/libvirt-9.0-raw.save`, "--json", "--xml"])).stdout.toString());
    const name = `vmstream-restore-${compress}-${process.pid}`;
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
    expect((await vmstream(["extract", `${A}/libvirt-9.0-raw.save`, stream])).code).toBe(0);
    // The control: a stream cut short must make libvirt's restore fail, or the passes below prove nothing.
    if (compress === "cut") writeFileSync(stream, readFileSync(stream).subarray(0, 400_000));
    const image = join(dir, `${name}.save`);
    const w = await vmstream(["wrap-save", "--xml", join(dir, `${name}.xml`), "--cookie", join(dir, `${name}.cookie`), "--compress", compress === "cut" ? "raw" : compress, stream, image]);
    expect(w.stderr).toBe("");
    expect((await vmstream(["verify", image])).code).toBe(compress === "cut" ? 1 : 0);
    const r = virsh(["restore", image]);
    try {
      if (compress === "cut") {
        expect(r.status, "libvirt restored a cut stream").not.toBe(0);
        return;
      }
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(virsh(["domstate", name, "--reason"]).stdout.trim()).toBe("running (restored)");
    } finally {
      virsh(["destroy", name], 30_000);
    }
  });
});
