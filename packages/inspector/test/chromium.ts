import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Where Debian's chromium is: $CHROMIUM_PATH, /usr/bin/chromium, or PATH.
 * undefined when it is not installed (the e2e test then skips, unless CI
 * requires it with VMSTREAM_INTEROP=required).
 */
export function chromiumPath(): string | undefined {
  const env = process.env.CHROMIUM_PATH;
  if (env) return existsSync(env) ? env : undefined;
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  try {
    const p = execFileSync("sh", ["-c", "command -v chromium || command -v chromium-browser"], { encoding: "utf8" }).trim();
    return p || undefined;
  } catch {
    return undefined;
  }
}

/** Flags from research/toolchain.md: no sandbox in containers, and no DNS lookups at all. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
];
