import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname } from "node:path";

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
  return { verify, convert, pythonPath: python };
}

/** QEMU's scripts/analyze-migration.py, only when the caller points at a copy (never shipped here). */
export function analyzeMigration() {
  const p = process.env.ANALYZE_MIGRATION;
  return p && existsSync(p) ? p : null;
}

export const NOT_INSTALLED = "peer not installed";
