import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** libvirt's system QEMU driver: the one `virsh save` / `virsh restore` use for real guests. */
export const LIBVIRT_URI = "qemu:///system";

export interface VirshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `virsh -c qemu:///system ARGS` (never throws for a non-zero exit). */
export function virsh(args: readonly string[], timeoutMs = 120_000): Promise<VirshResult> {
  return new Promise((resolve) => {
    execFile("virsh", ["-c", LIBVIRT_URI, ...args], { encoding: "utf8", timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr: stderr || (err && code === -1 ? String(err) : "") });
    });
  });
}

function answering(): boolean {
  return spawnSync("virsh", ["-c", LIBVIRT_URI, "version"], { encoding: "utf8", timeout: 10_000 }).status === 0;
}

export interface Libvirt {
  /** Stop the daemons this call started (nothing when they were already running). */
  stop(): Promise<void>;
  /** Whether startLibvirt started the daemons (false: someone else's were running). */
  started: boolean;
  /** Folder with virtlogd.log / libvirtd.log (and their pid files) when started. */
  dir: string | undefined;
}

/**
 * Make `qemu:///system` answer without systemd (CI containers have none): start
 * `virtlogd -d` and `libvirtd -d` with pid and log files in a temp folder, on
 * the default sockets, and wait for `virsh version`. A libvirtd already
 * answering is used as it is. Needs root, as libvirt's system driver does.
 */
export async function startLibvirt(timeoutMs = 30_000): Promise<Libvirt> {
  if (answering()) return { stop: async () => {}, started: false, dir: undefined };
  const dir = mkdtempSync(join(tmpdir(), "vmstream-libvirt-"));
  const daemon = (name: string) => {
    const bin = ["/usr/sbin", "/usr/bin"].map((d) => join(d, name)).find(existsSync) ?? name;
    const env = { ...process.env, LIBVIRT_LOG_OUTPUTS: `3:file:${join(dir, `${name}.log`)}` };
    // -d forks and exits once the daemon is up; a failure to start shows in its log.
    return spawnSync(bin, ["-d", "-p", join(dir, `${name}.pid`)], { env, encoding: "utf8", timeout: 30_000 });
  };
  // virtlogd may already run for another libvirtd; its failure to bind is harmless.
  daemon("virtlogd");
  const d = daemon("libvirtd");
  const stop = async () => {
    for (const name of ["libvirtd", "virtlogd"]) {
      const pidFile = join(dir, `${name}.pid`);
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      if (!(pid > 0)) continue;
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  while (!answering()) {
    if (Date.now() - t0 > timeoutMs) {
      const log = existsSync(join(dir, "libvirtd.log")) ? readFileSync(join(dir, "libvirtd.log"), "utf8").slice(-2000) : "";
      await stop();
      throw new Error(`libvirtd did not answer on ${LIBVIRT_URI} within ${timeoutMs} ms (exit ${d.status}: ${d.stderr}) ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { stop, started: true, dir };
}
