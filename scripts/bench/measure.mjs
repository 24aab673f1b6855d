import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";

/**
 * Run a shell command (its standard output is captured, so commands redirect
 * large outputs to /dev/null themselves) and report wall time and peak RSS. With GNU time
 * (/usr/bin/time) the kernel's ru_maxrss covers the whole pipeline (sh and
 * every child it waited for); without it we poll VmHWM of the process tree
 * under /proc every 10 ms.
 */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

export const rssMethod = () => (GNU_TIME ? "GNU time ru_maxrss (whole pipeline)" : "VmHWM polled from /proc every 10 ms");

export function runOnce(cmd, { env = process.env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    const args = GNU_TIME ? [GNU_TIME, ["-f", "@@TIME %e %M %U %S", "sh", "-c", cmd]] : ["sh", ["-c", cmd]];
    const t0 = process.hrtime.bigint();
    const p = spawn(args[0], args[1], { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    let hwm = 0;
    const poll = GNU_TIME ? null : setInterval(() => (hwm = Math.max(hwm, treeHwm(p.pid))), 10);
    const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const m = /@@TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(err);
      const stderr = err.replace(/^.*@@TIME.*$/m, "").trim();
      // GNU time prints "Command exited with non-zero status N" itself.
      const status = /Command exited with non-zero status (\d+)/.exec(stderr);
      resolve({
        code: status ? Number(status[1]) : code,
        seconds: wall,
        rssKiB: m ? Number(m[2]) : hwm,
        cpu: m ? Number(m[3]) + Number(m[4]) : null,
        stdout: out,
        stderr: stderr.replace(/^Command exited with non-zero status \d+$/m, "").trim(),
      });
    });
  });
}

function treeHwm(pid) {
  let max = 0;
  const visit = (p) => {
    try {
      const s = readFileSync(`/proc/${p}/status`, "utf8");
      const m = /VmHWM:\s+(\d+)/.exec(s);
      if (m) max = Math.max(max, Number(m[1]));
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8").trim();
        for (const k of kids ? kids.split(/\s+/) : []) visit(k);
      }
    } catch {
      // the process ended between reads
    }
  };
  visit(pid);
  return max;
}

/**
 * Best of `runs` (the machine is shared, so the minimum is the least disturbed
 * run); peak RSS is the largest seen. `after` runs after each attempt (delete
 * outputs). A non-zero exit fails the measurement with its error text.
 */
export async function measure(cmd, { runs = 3, after, env } = {}) {
  let best = null;
  let rss = 0;
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(cmd, { env });
    after?.();
    if (r.code !== 0) return { ok: false, error: firstLine(r.stderr) || `exit ${r.code}`, code: r.code };
    rss = Math.max(rss, r.rssKiB);
    if (!best || r.seconds < best.seconds) best = r;
  }
  return { ok: true, seconds: best.seconds, cpu: best.cpu, rssKiB: rss, stdout: best.stdout };
}

const firstLine = (s) => s.split("\n").find((l) => l.trim()) ?? "";
