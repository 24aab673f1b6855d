import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";

/**
 * Run a shell command (its standard output is captured, so commands redirect
 * large outputs to /dev/null themselves) and report wall time and peak RSS. With GNU time
 * (/usr/bin/time) the kernel's ru_maxrss covers the whole pipeline (the
 * largest of sh and every child it waited for); without it we poll VmHWM of
 * the process tree under /proc every 10 ms.
 */
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

export const rssMethod = () => (GNU_TIME ? "GNU time ru_maxrss (largest process of the pipeline)" : "VmHWM polled from /proc every 10 ms");

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

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Time several commands against each other: `warmup` untimed rounds, then
 * `runs` rounds in which every command runs once, in order (ours, peer, ours,
 * peer, …), so a slow moment of a shared machine falls on both sides. Each
 * side reports the median, min and max wall time, the median CPU time and
 * the largest peak RSS. `after` (per command) runs after each attempt, untimed
 * (deleting outputs). A failing command stops being run; its result names the
 * error.
 */
export async function interleave(cmds, { runs = 5, warmup = 1 } = {}) {
  const state = cmds.map(() => ({ times: [], cpus: [], rss: 0, error: null, stdout: "" }));
  for (let round = -warmup; round < runs; round++) {
    for (const [i, c] of cmds.entries()) {
      const s = state[i];
      if (s.error) continue;
      const r = await runOnce(c.cmd, { env: c.env });
      c.after?.();
      if (r.code !== 0) {
        s.error = firstLine(r.stderr) || `exit ${r.code}`;
        continue;
      }
      s.rss = Math.max(s.rss, r.rssKiB);
      s.stdout = r.stdout;
      if (round < 0) continue;
      s.times.push(r.seconds);
      if (r.cpu != null) s.cpus.push(r.cpu);
    }
  }
  return state.map((s) => (s.error ? { ok: false, error: s.error } : summary(s.times, s.cpus, s.rss, s.stdout)));
}

/** Median, spread, CPU median and peak RSS of one side's samples (kept, so that more rounds can be added). */
function summary(times, cpus, rssKiB, stdout) {
  return {
    ok: true,
    seconds: median(times),
    min: Math.min(...times),
    max: Math.max(...times),
    runs: times.length,
    cpu: cpus.length ? median(cpus) : null,
    rssKiB,
    stdout,
    times,
    cpus,
  };
}

/** One side's results of two `interleave` calls as one (an error on either side wins). */
export function merged(a, b) {
  if (!a.ok) return a;
  if (!b.ok) return b;
  return summary([...a.times, ...b.times], [...a.cpus, ...b.cpus], Math.max(a.rssKiB, b.rssKiB), b.stdout);
}

const firstLine = (s) => s.split("\n").find((l) => l.trim()) ?? "";
