import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The peers, run as installed: Debian's Xen tools by their own shebang
 * (`#!/usr/bin/python3`; never through whatever `python3` is first on PATH,
 * which on these machines is a version manager's shim costing ~0.3 s a start),
 * and QEMU's analyze-migration.py by the system interpreter, each release's
 * script on that release's streams. Every peer reports the interpreter that
 * runs it and its version, for the report.
 */
export const PEERS_DIR = process.env.VMSTREAM_PEERS ?? "/opt/vmstream-peers";
export const SYSTEM_PYTHON = "/usr/bin/python3";

/** The interpreter a script's `#!` line names (`/usr/bin/env X` means X as found on PATH), and its version. */
export function interpreterOf(script) {
  const first = readFileSync(script, "utf8").split("\n", 1)[0];
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return { path: "none (no #! line)", version: "" };
  if (m[1].endsWith("/env")) return { path: `${m[2]} from PATH`, version: versionOf(m[2]) };
  return { path: m[1], version: versionOf(m[1]) };
}

export function versionOf(exe) {
  try {
    return execFileSync(exe, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim().split("\n")[0];
  } catch (e) {
    return `unknown (${e.message.split("\n")[0]})`;
  }
}

/** Xen's Python tools from Debian's xen-utils-4.17, found through dpkg (or the usual prefix). */
export function xenTools() {
  let files = [];
  try {
    files = execFileSync("dpkg", ["-L", "xen-utils-4.17"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n");
  } catch {
    files = ["/usr/lib/xen-4.17/bin/verify-stream-v2", "/usr/lib/xen-4.17/bin/convert-legacy-stream", "/usr/lib/xen-4.17/lib/python"];
  }
  const find = (suffix) => files.find((f) => f.endsWith(suffix) && existsSync(f)) ?? null;
  const verify = find("/bin/verify-stream-v2");
  const convert = find("/bin/convert-legacy-stream");
  const python = find("/lib/python") ?? (verify ? `${dirname(dirname(verify))}/lib/python` : null);
  // The package's Python modules live outside sys.path: its tools need PYTHONPATH, nothing else.
  const env = { ...process.env, PYTHONPATH: python ?? "" };
  return { verify, convert, pythonPath: python, env, interpreter: verify ? interpreterOf(verify) : null };
}

/** QEMU `release`'s scripts/analyze-migration.py (installed by scripts/peers), run with the system Python. */
export function analyzeMigration(release) {
  const fromEnv = release === "7.2" ? process.env.ANALYZE_MIGRATION : undefined;
  const script = fromEnv ?? `${PEERS_DIR}/qemu-${release}-scripts/analyze-migration.py`;
  if (!existsSync(script) || !existsSync(SYSTEM_PYTHON)) return null;
  return { script, python: SYSTEM_PYTHON, version: versionOf(SYSTEM_PYTHON) };
}

/** A QEMU system emulator of `release`: the side-by-side install, or the distribution's for its own release. */
export function qemuBinary(release) {
  const side = `${PEERS_DIR}/bin/qemu-system-x86_64-${release}`;
  if (existsSync(side)) return side;
  for (const p of ["/usr/bin/qemu-system-x86_64"]) {
    if (existsSync(p) && versionOf(p).includes(`version ${release}.`)) return p;
  }
  return null;
}

export const NOT_INSTALLED = "peer missing";
