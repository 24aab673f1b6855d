/**
 * Real QEMU, for ground truth: save a VM to a file with one release and load
 * the file into another, over QMP on standard input/output. The binaries are
 * the side-by-side installs of scripts/peers (/opt/vmstream-peers/bin), or
 * QEMU_<R>_BIN (QEMU_5_2_BIN, QEMU_7_2_BIN, QEMU_10_0_BIN).
 */
import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import type { Release } from "./dumps.js";

export function qemuBin(r: Release): string | null {
  const env = process.env[`QEMU_${r.replace(".", "_")}_BIN`];
  if (env && existsSync(env)) return env;
  const p = `/opt/vmstream-peers/bin/qemu-system-x86_64-${r}`;
  if (existsSync(p)) return p;
  if (r === "7.2" && existsSync("/usr/bin/qemu-system-x86_64")) return "/usr/bin/qemu-system-x86_64";
  return null;
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

type Msg = Record<string, unknown>;

export interface QemuRun {
  /** QEMU's standard error (its error_report lines). */
  stderr: string;
  code: number | null;
}

const TIMEOUT_MS = 90_000;

/** Run QEMU with `-qmp stdio`; `script` sends commands in turn. Resolves when QEMU exits. */
export function withQmp(bin: string, args: string[], script: (send: (cmd: Msg) => Promise<Msg>, events: Msg[]) => Promise<void>): Promise<QemuRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [...args, "-display", "none", "-qmp", "stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let buf = "";
    const waiting: Array<(m: Msg) => void> = [];
    const events: Msg[] = [];
    const timer = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
    // QEMU may exit (a refused start) while a command is on its way: EPIPE is not an error here.
    p.stdin.on("error", () => {});
    p.on("error", reject);
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line.startsWith("{")) continue;
        const m = JSON.parse(line) as Msg;
        if ("return" in m || "error" in m) waiting.shift()?.(m);
        else if ("event" in m) events.push(m);
      }
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      // Commands still waiting get no answer: QEMU is gone.
      for (const w of waiting.splice(0)) w({ error: { desc: "QEMU exited" } });
      resolve({ stderr, code });
    });
    const send = (cmd: Msg) =>
      new Promise<Msg>((res) => {
        if (p.exitCode !== null) return res({ error: { desc: "QEMU exited" } });
        waiting.push(res);
        p.stdin.write(`${JSON.stringify(cmd)}\n`);
      });
    script(send, events)
      .catch((e: unknown) => (stderr += `\n[vmstream] ${String(e)}`))
      .finally(() => {
        if (p.exitCode === null) p.stdin.end();
      });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitMigration(send: (cmd: Msg) => Promise<Msg>): Promise<string> {
  for (let i = 0; i < 1200; i++) {
    const q = await send({ execute: "query-migrate" });
    if ("error" in q) return "exited";
    const status = (q.return as { status?: string }).status ?? "none";
    if (["completed", "failed", "cancelled"].includes(status)) return status;
    await sleep(50);
  }
  return "timeout";
}

export interface SaveOptions {
  /** Let the guest run this long before migrating (the README's streams ran 1 s); 0 = paused (-S). */
  runMs?: number;
  capabilities?: string[];
}

/** Save a VM started with `args` to `file` (exec:cat). Throws with QEMU's stderr when it fails. */
export async function saveVm(bin: string, args: string[], file: string, o: SaveOptions = {}): Promise<void> {
  const runMs = o.runMs ?? 0;
  let status = "";
  const r = await withQmp(bin, [...args, ...(runMs ? [] : ["-S"])], async (send) => {
    await send({ execute: "qmp_capabilities" });
    if (o.capabilities?.length) await send({ execute: "migrate-set-capabilities", arguments: { capabilities: o.capabilities.map((c) => ({ capability: c, state: true })) } });
    if (runMs) await sleep(runMs);
    await send({ execute: "migrate", arguments: { uri: `exec:cat > '${file.replace(/'/g, "'\\''")}'` } });
    status = await waitMigration(send);
    await send({ execute: "quit" });
  });
  if (status !== "completed" || !existsSync(file) || statSync(file).size === 0) throw new Error(`saving with ${bin} failed (${status}): ${r.stderr.trim()}`);
}

export interface LoadResult {
  loaded: boolean;
  /** QEMU's own error line(s) when it refused (without the program-name prefix). */
  message: string;
}

/** Load `file` into a VM started with `args -incoming defer`: QEMU's verdict. */
export async function loadVm(bin: string, args: string[], file: string, capabilities: string[] = []): Promise<LoadResult> {
  let status = "";
  const r = await withQmp(bin, [...args, "-incoming", "defer"], async (send) => {
    await send({ execute: "qmp_capabilities" });
    if (capabilities.length) await send({ execute: "migrate-set-capabilities", arguments: { capabilities: capabilities.map((c) => ({ capability: c, state: true })) } });
    const m = await send({ execute: "migrate-incoming", arguments: { uri: `exec:cat '${file.replace(/'/g, "'\\''")}'` } });
    if ("error" in m) {
      status = "exited";
      return;
    }
    for (let i = 0; i < 1200; i++) {
      const q = await send({ execute: "query-status" });
      if ("error" in q) {
        status = "exited";
        return;
      }
      const s = (q.return as { status?: string }).status;
      if (s !== "inmigrate") {
        status = s ?? "unknown";
        break;
      }
      await sleep(50);
    }
    await send({ execute: "quit" });
  });
  const lines = r.stderr
    .split("\n")
    .map((l) => l.replace(/^[^:]*qemu-system-x86_64[^:]*: /, "").trim())
    .filter((l) => l && !l.startsWith("[vmstream]") && !l.startsWith("warning:"));
  const loaded = status === "running" || status === "paused" || status === "postmigrate";
  return { loaded, message: loaded ? "" : lines.join(" / ") || `QEMU ended the load in state ${status}` };
}

/** `-dump-vmstate` of a command line (QEMU writes it and exits). */
export function dumpVmstate(bin: string, args: string[], file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const p = spawn(bin, [...args, "-display", "none", "-dump-vmstate", file], { stdio: "ignore" });
    p.on("error", () => resolve(false));
    p.on("close", (code) => resolve(code === 0 && existsSync(file)));
  });
}
