import { isAbsolute, resolve } from "node:path";
import { type QemuRelease, qemuRelease } from "./location.js";
import { MonitorTimeout, QemuExited, QemuMonitor } from "./monitor.js";

/** Migration parameters for `migrate_set_parameter NAME VALUE`, e.g. `{ "multifd-channels": 2 }`. */
export type MigrationParams = Readonly<Record<string, string | number>>;

/**
 * The URI for a stream file: an explicit `scheme:` URI is kept; mapped-ram
 * needs QEMU to seek in the file itself (`file:`); anything else goes through
 * a pipe (`exec:cat`), as the fixtures were made.
 */
function uriFor(file: string, caps: readonly string[], direction: "out" | "in"): string {
  if (/^(file|exec|tcp|unix|fd|rdma):/.test(file)) return file;
  const abs = isAbsolute(file) ? file : resolve(file);
  if (caps.includes("mapped-ram")) return `file:${abs}`;
  return direction === "out" ? `exec:cat > ${abs}` : `exec:cat ${abs}`;
}

/** HMP answers a refused setting with text (success prints nothing). */
async function setAll(m: QemuMonitor, caps: readonly string[], params: MigrationParams): Promise<void> {
  for (const c of caps) {
    const o = await m.cmd(`migrate_set_capability ${c} on`);
    if (o) throw new Error(`migrate_set_capability ${c} on: ${o}`);
  }
  for (const [k, v] of Object.entries(params)) {
    const o = await m.cmd(`migrate_set_parameter ${k} ${v}`);
    if (o) throw new Error(`migrate_set_parameter ${k} ${v}: ${o}`);
  }
}

/**
 * Migrate the machine behind a live monitor to `file` (after setting the
 * capabilities and parameters) and wait until QEMU says it completed. Resolves
 * the final `info migrate`; throws with QEMU's own words when it fails. Used
 * on a freshly started machine (saveStream) and on one that just loaded a
 * stream, to see what it made of it.
 */
export async function migrateTo(m: QemuMonitor, file: string, caps: readonly string[] = [], params: MigrationParams = {}): Promise<string> {
  await setAll(m, caps, params);
  const o = await m.cmd(`migrate "${uriFor(file, caps, "out")}"`, 120_000);
  if (/error/i.test(o)) throw new Error(`migrate: ${o}; stderr: ${m.stderr.trim()}`);
  const info = await m.waitFor("info migrate", (s) => /Migration status:\s*(completed|failed|cancelled)/.test(s), 120_000);
  if (!/Migration status:\s*completed/.test(info)) throw new Error(`migration did not complete: ${info}; stderr: ${m.stderr.trim()}`);
  return info;
}

/**
 * Start release R with `args` (add `-S` for a stopped machine), set the
 * capabilities and parameters, migrate to `file` (see migrateTo) and quit.
 * `runMs` lets a running guest run that long first.
 */
export async function saveStream(
  release: QemuRelease,
  args: readonly string[],
  file: string,
  caps: readonly string[] = [],
  params: MigrationParams = {},
  runMs = 0,
): Promise<string> {
  const m = await QemuMonitor.launch(release, args);
  try {
    if (runMs > 0) await new Promise((r) => setTimeout(r, runMs));
    return await migrateTo(m, file, caps, params);
  } finally {
    await m.quit();
  }
}

export interface LoadResult {
  /** QEMU accepted the whole stream and left the incoming state. */
  ok: boolean;
  /** The last `info status` (e.g. `VM status: paused (postmigrate)`), "" when QEMU exited. */
  status: string;
  /** Why QEMU refused the stream: its stderr (the message users see), or the monitor's. */
  error: string;
  /** QEMU neither finished nor refused the load within `timeoutMs` (a hang); `ok` is false. */
  timedOut: boolean;
  /** Alive when ok and `keep` was asked for: the caller inspects it and must `quit()` it. */
  monitor: QemuMonitor;
}

export interface LoadOptions {
  params?: MigrationParams;
  /** Keep the loaded VM running for inspection (then quit `result.monitor`). */
  keep?: boolean;
  /** How long the load may take, monitor start included (default 120 s). */
  timeoutMs?: number;
  /**
   * "defer" (the default): `-incoming defer`, capabilities, then
   * `migrate_incoming`. "argument": `-incoming URI` on the command line, the
   * way a user restores a saved file (and the way the fixtures' loads were
   * checked); QEMU starts loading before its monitor answers, and exits on a
   * refused stream in every release. No capabilities then.
   */
  incoming?: "defer" | "argument";
}

/**
 * Load `file` into release R started with `args` and `-incoming defer`, so
 * that destination capabilities (postcopy-ram, mapped-ram, multifd) are set
 * before `migrate_incoming`, which is what capability streams need. Never
 * throws for a refused stream: `ok` is false and `error` says why.
 */
export async function loadStream(
  release: QemuRelease,
  args: readonly string[],
  file: string,
  caps: readonly string[] = [],
  options: LoadOptions = {},
): Promise<LoadResult> {
  const peer = qemuRelease(release);
  if (peer === undefined) throw new Error(`QEMU ${release} is not installed (bash scripts/peers/install.sh)`);
  const argument = options.incoming === "argument";
  if (argument && (caps.length || Object.keys(options.params ?? {}).length)) throw new Error("loadStream: capabilities need incoming: defer");
  const uri = uriFor(file, caps, "in");
  // Started here rather than through launch(): a destination that refuses at
  // start (e.g. "unsupported machine type") is a verdict too, not an exception.
  const m = new QemuMonitor(peer.bin, [...args, "-incoming", argument ? uri : "defer"]);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  let result: LoadResult;
  try {
    // A QEMU loading from its command line may answer its monitor only once the load is over.
    await m.start(Math.max(1, deadline - Date.now()));
    if (!argument) {
      await setAll(m, caps, options.params ?? {});
      const o = await m.cmd(`migrate_incoming "${uri}"`);
      if (o && /error/i.test(o)) result = { ok: false, status: "", error: o, timedOut: false, monitor: m };
    }
    result ??= await settle(m, deadline, timeoutMs);
  } catch (e) {
    if (e instanceof QemuExited) result = refused(m);
    else if (e instanceof MonitorTimeout) result = { ok: false, status: "", error: `no answer after ${timeoutMs} ms`, timedOut: true, monitor: m };
    else {
      await m.quit();
      throw e;
    }
  }
  if (!result.ok || !options.keep) await m.quit();
  return result;
}

/** QEMU exited: its stderr says why, else how it ended. */
function refused(m: QemuMonitor): LoadResult {
  const how = m.exitSignal ? `killed by ${m.exitSignal}` : `exit ${m.exitCode}`;
  return { ok: false, status: "", error: stderrMessage(m) || how, timedOut: false, monitor: m };
}

/**
 * Poll until the destination leaves "inmigrate", or the load failed: 5.2 and
 * 7.2 exit on a failed load, 10.0 stays in "inmigrate" with `info migrate`
 * saying "failed (load of migration failed: …)".
 */
async function settle(m: QemuMonitor, deadline: number, timeoutMs: number): Promise<LoadResult> {
  const left = (): number => Math.max(1, deadline - Date.now());
  for (;;) {
    let status: string;
    let info: string;
    try {
      status = await m.cmd("info status", left());
      info = await m.cmd("info migrate", left());
    } catch (e) {
      if (e instanceof QemuExited) return refused(m);
      throw e;
    }
    const failed = /Migration status:\s*failed/.test(info);
    if (failed) return { ok: false, status, error: stderrMessage(m) || info, timedOut: false, monitor: m };
    if (!/inmigrate/.test(status)) return { ok: true, status, error: "", timedOut: false, monitor: m };
    if (Date.now() >= deadline) return { ok: false, status, error: `still ${status} after ${timeoutMs} ms`, timedOut: true, monitor: m };
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** QEMU's stderr without its program-name prefixes, one message per line. */
function stderrMessage(m: QemuMonitor): string {
  return m.stderr
    .split("\n")
    .map((l) => l.replace(/^\S*qemu-system-x86_64:\s*/, "").trim())
    .filter(Boolean)
    .join("\n");
}

/**
 * `dump-guest-memory FILE` (an ELF core of guest RAM) from a live monitor, for
 * checking what a loaded stream put in memory. Throws QEMU's message on error.
 */
export async function dumpGuestMemory(monitor: QemuMonitor, file: string): Promise<void> {
  const abs = isAbsolute(file) ? file : resolve(file);
  const o = await monitor.cmd(`dump-guest-memory ${abs}`, 120_000);
  if (o) throw new Error(`dump-guest-memory: ${o}`);
}
