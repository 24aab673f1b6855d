import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Where scripts/peers/install.sh put the side-by-side QEMU releases, their
 * wrappers and QEMU's Python scripts: $VMSTREAM_PEERS, else /opt/vmstream-peers
 * (the script's default, so CI and a developer machine agree without setup).
 */
export function peersDir(): string {
  return process.env.VMSTREAM_PEERS || "/opt/vmstream-peers";
}

/** The QEMU releases the interop tests cover: bullseye's, bookworm's and bookworm-backports'. */
export const QEMU_RELEASES = ["5.2", "7.2", "10.0"] as const;
export type QemuRelease = (typeof QEMU_RELEASES)[number];

export interface QemuPeer {
  release: QemuRelease;
  /** An executable that runs this release with its own firmware, libraries and modules. */
  bin: string;
  /** From `--version`, e.g. `7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)`. */
  version: string;
}

/** The first line of `bin --version` without the banner, or undefined when it does not run. */
function versionOf(bin: string): string | undefined {
  try {
    const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) return undefined;
    return r.stdout.split("\n")[0]!.replace(/^.*version\s+/, "").trim();
  } catch {
    return undefined;
  }
}

// `--version` forks a process; tests ask for the same release many times.
const found = new Map<string, QemuPeer | undefined>();

/**
 * The wrapper $PEERS/bin/qemu-system-x86_64-R, checked to really be release R.
 * For 7.2 the system's /usr/bin/qemu-system-x86_64 (bookworm's) is accepted
 * too, so a machine with only Debian's package still runs the 7.2 tests.
 */
export function qemuRelease(r: QemuRelease): QemuPeer | undefined {
  if (found.has(r)) return found.get(r);
  const candidates = [join(peersDir(), "bin", `qemu-system-x86_64-${r}`)];
  if (r === "7.2") candidates.push("/usr/bin/qemu-system-x86_64");
  let peer: QemuPeer | undefined;
  for (const bin of candidates) {
    if (!existsSync(bin)) continue;
    const version = versionOf(bin);
    if (version !== undefined && version.startsWith(`${r}.`)) {
      peer = { release: r, bin, version };
      break;
    }
  }
  found.set(r, peer);
  return peer;
}

function file(path: string): string | undefined {
  return existsSync(path) ? path : undefined;
}

/**
 * QEMU's scripts/analyze-migration.py of release R (7.2 or 10.0; install.sh
 * takes them from Debian's source tarballs). 5.2 has none installed: the 7.2
 * script reads 5.2 streams (fixtures README), so 5.2 answers with that one.
 */
export function analyzeMigration(r: QemuRelease): string | undefined {
  const from = r === "5.2" ? "7.2" : r;
  return file(join(peersDir(), `qemu-${from}-scripts`, "analyze-migration.py"));
}

/** QEMU 10.0's scripts/vmstate-static-checker.py. */
export function staticChecker(): string | undefined {
  return file(join(peersDir(), "qemu-10.0-scripts", "vmstate-static-checker.py"));
}

/** Absolute path of a command on PATH (or in the usual system folders), if any. */
export function which(cmd: string): string | undefined {
  for (const d of ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  try {
    const p = execFileSync("sh", ["-c", 'command -v "$1"', "sh", cmd], { encoding: "utf8" }).trim();
    return p || undefined;
  } catch {
    return undefined;
  }
}

/** Debian's qemu-img (qemu-utils, 7.2). */
export function qemuImg(): string | undefined {
  return which("qemu-img");
}

/** Debian's qemu-io (qemu-utils, 7.2). */
export function qemuIo(): string | undefined {
  return which("qemu-io");
}

/** Debian's chromium: $CHROMIUM_PATH when set (and present), else /usr/bin/chromium or PATH. */
export function chromiumPath(): string | undefined {
  const env = process.env.CHROMIUM_PATH;
  if (env) return file(env);
  return which("chromium") ?? which("chromium-browser");
}
