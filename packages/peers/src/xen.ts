import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

export interface XenTool {
  /** The tool's path, e.g. /usr/lib/xen-4.17/bin/verify-stream-v2. */
  bin: string;
  /**
   * Environment to run it with: Debian installs Xen's Python package (the
   * `xen.migration` modules these tools import) under lib/python beside bin/,
   * which is not on Python's default path.
   */
  env: NodeJS.ProcessEnv;
}

/** Xen's libexec tools Debian's xen-utils installs under /usr/lib/xen-<version>/bin. */
export type XenToolName = "verify-stream-v2" | "convert-legacy-stream" | (string & {});

/**
 * A tool of Debian's xen-utils: an environment override ($XEN_VERIFY for
 * verify-stream-v2, $CONVERT_LEGACY_STREAM for convert-legacy-stream, as the
 * existing tests honour), else the newest /usr/lib/xen-* that has it.
 */
export function xenTool(name: XenToolName): XenTool | undefined {
  const override = name === "verify-stream-v2" ? process.env.XEN_VERIFY : name === "convert-legacy-stream" ? process.env.CONVERT_LEGACY_STREAM : undefined;
  let bin: string | undefined;
  if (override) bin = existsSync(override) ? override : undefined;
  else if (existsSync("/usr/lib")) {
    const dirs = readdirSync("/usr/lib")
      .filter((d) => /^xen-\d/.test(d))
      .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
    bin = dirs.map((d) => join("/usr/lib", d, "bin", name)).find((p) => existsSync(p));
  }
  if (bin === undefined) return undefined;
  const py = join(dirname(bin), "..", "lib", "python");
  const PYTHONPATH = [py, process.env.PYTHONPATH].filter(Boolean).join(":");
  return { bin, env: { ...process.env, PYTHONPATH } };
}
