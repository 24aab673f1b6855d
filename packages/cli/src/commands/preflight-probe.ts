/**
 * The destination probe of `preflight --qemu BIN -- ARGS`: start the
 * destination's QEMU with its command line, paused (-S), migrate it to a file
 * over QMP, and take its `-dump-vmstate` with the same arguments. A freshly
 * started VM's stream names its machine type, devices, instances, RAM blocks
 * and layouts exactly as that destination would expect them.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.js";

export interface Probe {
  stream: string;
  dump: string | null;
  cleanup(): Promise<void>;
}

/**
 * The destination's QEMU exited before it answered on QMP: its command line
 * does not start there (a machine type that build lacks, a device it does not
 * have…). That is a verdict about the destination, not a usage error.
 */
export class DestinationDoesNotStart extends Error {
  constructor(
    /** QEMU's error lines, without the program-name prefix. */
    readonly lines: string[],
  ) {
    super(lines.join(" / ") || "QEMU exited at start without a message");
    this.name = "DestinationDoesNotStart";
  }
}

interface QmpRun {
  stderr: string;
  /** QEMU sent its QMP greeting: it got past its command line. */
  greeted: boolean;
}

const TIMEOUT_MS = 120_000;

/** Run QEMU with QMP on stdio: send each command after the previous answer; resolve with stderr when it exits. */
function qmp(bin: string, args: string[], script: (send: (cmd: object) => Promise<Record<string, unknown>>) => Promise<void>): Promise<QmpRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [...args, "-S", "-display", "none", "-qmp", "stdio"], { stdio: ["pipe", "pipe", "pipe"] });
    let err = "";
    let buf = "";
    let greeted = false;
    const waiting: Array<(v: Record<string, unknown>) => void> = [];
    const timer = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
    // QEMU may exit (a refused start) while a command is on its way: EPIPE is not an error here.
    p.stdin.on("error", () => {});
    p.on("error", (e) => reject(new UsageError(`cannot run ${bin}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        let msg: Record<string, unknown>;
        try {
          msg = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if ("QMP" in msg) greeted = true;
        if ("return" in msg || "error" in msg) waiting.shift()?.(msg);
      }
    });
    let closed = false;
    p.on("close", () => {
      closed = true;
      clearTimeout(timer);
      // Commands still waiting get no answer: QEMU is gone.
      for (const w of waiting.splice(0)) w({ error: { desc: "QEMU exited" } });
      resolve({ stderr: err, greeted });
    });
    const send = (cmd: object) =>
      new Promise<Record<string, unknown>>((res) => {
        // A command sent after QEMU exited would wait for ever: it gets the same answer.
        if (closed) return res({ error: { desc: "QEMU exited" } });
        waiting.push(res);
        p.stdin.write(`${JSON.stringify(cmd)}\n`);
      });
    script(send)
      .catch((e: unknown) => {
        err += String(e);
      })
      .finally(() => p.stdin.end());
  });
}

export async function probeQemu(bin: string, args: string[], opts: { uuid: boolean; capabilities: string[] }): Promise<Probe> {
  const dir = await mkdtemp(join(tmpdir(), "vmstream-preflight-"));
  const stream = join(dir, "probe.mig");
  const dump = join(dir, "vmstate.json");
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const run = await qmp(bin, args, async (send) => {
    await send({ execute: "qmp_capabilities" });
    const caps = [...opts.capabilities.filter((c) => c !== "mapped-ram"), ...(opts.uuid ? ["validate-uuid"] : [])];
    if (caps.length) await send({ execute: "migrate-set-capabilities", arguments: { capabilities: caps.map((c) => ({ capability: c, state: true })) } });
    const r = await send({ execute: "migrate", arguments: { uri: `exec:cat > '${stream.replace(/'/g, "'\\''")}'` } });
    if ("error" in r) throw new Error(JSON.stringify(r.error));
    for (let i = 0; i < 1200; i++) {
      const q = await send({ execute: "query-migrate" });
      const status = (q.return as { status?: string } | undefined)?.status;
      if (status === "completed") break;
      if (status === "failed" || status === "cancelled") throw new Error(`probe migration ${status}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    await send({ execute: "quit" });
  });
  // The dump needs the same machine and devices; QEMU writes it and exits.
  const dumped = await new Promise<boolean>((resolve) => {
    const p = spawn(bin, [...args, "-display", "none", "-dump-vmstate", dump], { stdio: "ignore" });
    // QEMU writes the dump and exits at once; one that does not is ended like the probe.
    const timer = setTimeout(() => p.kill("SIGKILL"), TIMEOUT_MS);
    p.on("error", () => resolve(false));
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
  const ok = await import("node:fs").then((fs) => fs.existsSync(stream) && fs.statSync(stream).size > 0);
  const err = run.stderr;
  if (!ok && !run.greeted) {
    await cleanup();
    throw new DestinationDoesNotStart(
      err
        .split("\n")
        .map((l) => l.replace(/^\S*qemu-system-[^:\s]*:\s*/, "").trim())
        .filter((l) => l && !l.startsWith("warning:")),
    );
  }
  if (!ok) {
    await cleanup();
    throw new UsageError(`preflight: ${bin} did not write a probe stream: ${err.trim().split("\n").slice(-3).join(" / ") || "no message"}`);
  }
  return { stream, dump: dumped ? dump : null, cleanup };
}
