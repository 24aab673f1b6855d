import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { type QemuRelease, qemuRelease } from "./location.js";

const PROMPT = "(qemu) ";
// HMP on a pipe still runs QEMU's readline, which writes cursor-control escapes.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * A QEMU process driven through its human monitor (HMP) on stdio, with no
 * display and no default devices. HMP rather than QMP because every release
 * from 5.2 on speaks it the same way for what the tests need, and its error
 * lines are the ones QEMU's users see.
 */
export class QemuMonitor {
  private out = "";
  private err = "";
  private readonly p: ChildProcessWithoutNullStreams;
  private code: number | null = null;
  private sig: NodeJS.Signals | null = null;
  /** Resolves with the exit code (-1 when killed by a signal). */
  readonly exited: Promise<number>;

  /** Start `bin` (a release's wrapper) with `args` after the monitor options. */
  constructor(
    readonly bin: string,
    readonly args: readonly string[],
  ) {
    this.p = spawn(bin, ["-display", "none", "-nodefaults", "-monitor", "stdio", ...args]);
    this.p.stdout.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.p.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    // QEMU can exit (a refused load) between our exit check and a write: the
    // write then fails with EPIPE. That is not an error of its own; the next
    // prompt() sees the exit code and throws QemuExited with QEMU's message.
    this.p.stdin.on("error", () => {});
    this.exited = new Promise((resolve) => {
      // "close", not "exit": by then stderr has been read to its end.
      this.p.on("close", (code, signal) => {
        this.sig = signal;
        this.code = code ?? -1;
        resolve(this.code);
      });
      // A spawn failure (no such file) never emits "exit".
      this.p.on("error", (e) => {
        this.err += String(e);
        this.code = -1;
        resolve(-1);
      });
    });
  }

  /** Start release R's QEMU and wait for its first prompt. */
  static async launch(release: QemuRelease, args: readonly string[]): Promise<QemuMonitor> {
    const peer = qemuRelease(release);
    if (peer === undefined) throw new Error(`QEMU ${release} is not installed (bash scripts/peers/install.sh)`);
    const m = new QemuMonitor(peer.bin, args);
    try {
      await m.start();
    } catch (e) {
      await m.quit();
      throw e;
    }
    return m;
  }

  /** Everything QEMU wrote to stderr so far (its error messages). */
  get stderr(): string {
    return this.err;
  }

  /** The exit code once QEMU has exited, else null. */
  get exitCode(): number | null {
    return this.code;
  }

  /** The signal that ended QEMU (a crash: SIGSEGV, SIGABRT), else null. */
  get exitSignal(): NodeJS.Signals | null {
    return this.sig;
  }

  private async prompt(timeoutMs: number): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const i = this.out.indexOf(PROMPT);
      if (i >= 0) {
        const s = this.out.slice(0, i);
        this.out = this.out.slice(i + PROMPT.length);
        return s;
      }
      if (this.code !== null) throw new QemuExited(this.code, this.err);
      if (Date.now() - t0 > timeoutMs) throw new MonitorTimeout(timeoutMs, this.err);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Wait for the first prompt. */
  async start(timeoutMs = 30_000): Promise<void> {
    await this.prompt(timeoutMs);
  }

  /** Run one monitor command; resolves its output without the echoed command and escapes. */
  async cmd(line: string, timeoutMs = 60_000): Promise<string> {
    if (this.code !== null) throw new QemuExited(this.code, this.err);
    this.p.stdin.write(`${line}\n`);
    const raw = (await this.prompt(timeoutMs)).replace(ESCAPES, "").replace(/\r/g, "");
    const lines = raw.split("\n");
    // readline redraws the line per typed character, so the echo ends with it.
    if (lines[0]?.trimEnd().endsWith(line.trim())) lines.shift();
    return lines.join("\n").trim();
  }

  /** Repeat `line` until `done(output)` holds. */
  async waitFor(line: string, done: (out: string) => boolean, timeoutMs = 60_000): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const o = await this.cmd(line);
      if (done(o)) return o;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting on "${line}": ${o}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** `quit`, then SIGKILL after 5 s if QEMU is still there. Safe to call twice. */
  async quit(): Promise<void> {
    if (this.code !== null) return;
    this.p.stdin.write("quit\n");
    const timer = setTimeout(() => this.p.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** A monitor command found QEMU gone; `stderr` holds why. */
export class QemuExited extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`QEMU exited (${code}): ${stderr.trim()}`);
    this.name = "QemuExited";
  }
}

/** QEMU did not print its next prompt in time (it hangs, or is busy loading a stream). */
export class MonitorTimeout extends Error {
  constructor(
    readonly timeoutMs: number,
    readonly stderr: string,
  ) {
    super(`QEMU monitor timeout after ${timeoutMs} ms; stderr: ${stderr.trim()}`);
    this.name = "MonitorTimeout";
  }
}
