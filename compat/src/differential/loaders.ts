import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { type QemuRelease, loadStream } from "@vmstream/peers";

/** What a loader made of one stream. */
export interface Verdict {
  /** loads: the VM state would be restored; refused: the loader stopped with an error. */
  verdict: "loads" | "refused" | "hang";
  /** The loader's own words (its last error line, or the state it reached). */
  message: string;
}

const lastLine = (s: string): string =>
  s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .pop() ?? "";

/**
 * QEMU's reason for a refused load: its first error line that says more than
 * the generic "load of migration failed" that always follows.
 */
function qemuReason(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => !/^load of migration failed/.test(l)) ?? lines[0] ?? "";
}

/**
 * Load `file` into the QEMU of `release` as a user restores a file
 * (`-incoming exec:cat FILE`, through @vmstream/peers' loadStream) and wait
 * until it leaves `inmigrate`: a refused stream makes QEMU exit 1 with its
 * reason on stderr; an accepted one leaves it paused or running.
 */
export async function qemuLoad(release: QemuRelease, args: readonly string[], file: string, timeoutMs = 30_000): Promise<Verdict> {
  const r = await loadStream(release, args, file, [], { incoming: "argument", timeoutMs });
  if (r.ok) return { verdict: "loads", message: `VM status: ${/VM status: ([a-z-]+(?: \([a-z-]+\))?)/.exec(r.status)?.[1] ?? r.status}` };
  if (r.timedOut) return { verdict: "hang", message: `still loading after ${timeoutMs} ms` };
  const sig = r.monitor.exitSignal;
  const why = qemuReason(r.error);
  return { verdict: "refused", message: sig ? `crashed (${sig}): ${why}` : why };
}

/**
 * Xen's verify-stream-v2 as installed (its own `#!/usr/bin/python3`), one
 * process per stream, with PYTHONPATH at the package's lib/python.
 */
export function xenVerify(tool: string, pythonPath: string, format: string, file: string): Verdict {
  const r = spawnSync(tool, ["-f", format, "-i", file], { encoding: "utf8", env: { ...process.env, PYTHONPATH: pythonPath }, timeout: 60_000 });
  if (r.status === 0) return { verdict: "loads", message: "valid" };
  return { verdict: r.error ? "hang" : "refused", message: lastLine(`${r.stdout}\n${r.stderr}`) || `exit ${r.status}` };
}

/**
 * The same verifier with its two Python 3 defects corrected in memory
 * (packages/libxl/test/peer/verify_batch.py): where it and the stock tool
 * differ, the stock tool's verdict is a defect of the peer, not a disagreement.
 */
export function xenVerifyFixed(shim: string, streams: readonly { format: string; bytes: Uint8Array }[], file: string): Verdict[] {
  // The shim's batch file: per stream, u32 format length, format, u32 data length, data (little-endian).
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const parts = streams.flatMap((s) => [u32(s.format.length), Buffer.from(s.format), u32(s.bytes.byteLength), Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength)]);
  writeFileSync(file, Buffer.concat(parts));
  const r = spawnSync("/usr/bin/python3", [shim, file], { encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`verify_batch.py failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { rc: number; error: string })
    .map((x): Verdict => (x.rc === 0 ? { verdict: "loads", message: "valid" } : { verdict: "refused", message: x.error }));
}

/** vmstream's verdict: the built CLI's `verify`, as a user runs it (exit 0 loads, 1 refused). */
export function oursVerify(cli: string, file: string, extra: readonly string[] = []): Verdict {
  const run = (timeout: number) => spawnSync(process.execPath, [cli, "verify", file, ...extra], { encoding: "utf8", timeout });
  let r = run(60_000);
  // A verify takes well under a second; on a machine shared with other test runs a
  // start-up can stall past a minute. Only a second, longer timeout is a hang.
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT") r = run(240_000);
  // The message without the leading "FILE: " the CLI puts on every line.
  const strip = (l: string): string => (l.startsWith(`${file}: `) ? l.slice(file.length + 2) : l);
  if (r.status === 0) return { verdict: "loads", message: strip(lastLine(r.stdout)) };
  const message = strip(lastLine(r.stderr) || lastLine(r.stdout));
  if (r.status === 1) return { verdict: "refused", message };
  return { verdict: "hang", message: r.error ? String(r.error) : `exit ${r.status}: ${message}` };
}
