import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";

export const QEMU = "qemu-system-x86_64";

export function qemuAvailable(): boolean {
  try {
    return spawnSync(QEMU, ["--version"], { encoding: "utf8" }).status === 0;
  } catch {
    return false;
  }
}

/** A QEMU process driven through its HMP monitor on stdio. */
export class QemuMonitor {
  private out = "";
  private err = "";
  private readonly p: ChildProcessWithoutNullStreams;
  private exited: number | null = null;

  constructor(args: string[], bin = QEMU) {
    this.p = spawn(bin, ["-display", "none", "-nodefaults", "-monitor", "stdio", ...args]);
    this.p.stdout.setEncoding("utf8").on("data", (d: string) => (this.out += d));
    this.p.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    this.p.on("exit", (code) => (this.exited = code ?? -1));
  }

  get stderr(): string {
    return this.err;
  }

  private async prompt(timeoutMs: number): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const i = this.out.indexOf("(qemu) ");
      if (i >= 0) {
        const s = this.out.slice(0, i);
        this.out = this.out.slice(i + 7);
        return s;
      }
      if (this.exited !== null) throw new Error(`QEMU exited (${this.exited}): ${this.err.trim()}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`QEMU monitor timeout; stderr: ${this.err.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async start(): Promise<void> {
    await this.prompt(20_000);
  }

  /** Run one monitor command; resolves its output (escape sequences removed). */
  async cmd(line: string, timeoutMs = 20_000): Promise<string> {
    this.p.stdin.write(`${line}\n`);
    // eslint-disable-next-line no-control-regex
    return (await this.prompt(timeoutMs)).replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
  }

  async waitFor(line: string, done: (out: string) => boolean, timeoutMs = 30_000): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const o = await this.cmd(line);
      if (done(o)) return o;
      if (Date.now() - t0 > timeoutMs) throw new Error(`timeout waiting on "${line}": ${o}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async quit(): Promise<void> {
    if (this.exited !== null) return;
    this.p.stdin.write("quit\n");
    await new Promise<void>((r) => {
      if (this.exited !== null) return r();
      this.p.on("exit", () => r());
      setTimeout(() => {
        this.p.kill("SIGKILL");
        r();
      }, 5000);
    });
  }
}

/** Save the running (or paused) machine to `file` with `migrate "exec:cat > FILE"`. */
export async function saveStream(args: string[], file: string, caps: string[] = []): Promise<void> {
  const q = new QemuMonitor(args);
  try {
    await q.start();
    for (const c of caps) await q.cmd(`migrate_set_capability ${c} on`);
    await q.cmd(`migrate "exec:cat > ${file}"`);
    await q.waitFor("info migrate", (o) => /Migration status: (completed|failed)/.test(o));
  } finally {
    await q.quit();
  }
}

/** Load `file` as an incoming migration; returns the monitor for inspection (caller quits). */
export async function loadStream(args: string[], file: string): Promise<QemuMonitor> {
  const q = new QemuMonitor([...args, "-incoming", `exec:cat ${file}`]);
  await q.start();
  await q.waitFor("info status", (o) => !/inmigrate/.test(o));
  return q;
}
