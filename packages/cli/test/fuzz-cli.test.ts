import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzzInput } from "@vmstream/testing";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { FAMILIES, type Family, corpus, corpusFiles } from "./fuzz-corpus.js";
import { BIN, REPO } from "./run.js";

/*
 * The built CLI on mutated fixtures, one process per case: exit code 0 or 1
 * only, a failure is exactly the contract line `FILE: family@version: offset N:
 * message` (never a stack trace, never an "internal error"), N inside the file,
 * no time-out, peak RSS ≤ 512 MiB, and a failed recode/convert leaves no
 * file behind. Then, per family, the "nothing lost" rules on valid fixtures.
 * About 60 spawns in all (each costs ~150 ms of CPU), three at a time; one
 * mutated case per family goes through standard input.
 */
const SEED = Number(process.env.FC_SEED ?? 0xc11f022);
const PER_FAMILY = Number(process.env.FUZZ_CLI_CASES ?? 6);
/** Spawns in flight at once (they are mostly Node start-up, which overlaps well). */
const PARALLEL = 3;
const RSS_LIMIT_KIB = 512 * 1024;
const TIME_LIMIT_MS = 30_000;
const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
console.info(`fuzz-cli: seed ${SEED}, ${PER_FAMILY} cases per family (FC_SEED, FUZZ_CLI_CASES)`);

const dir = mkdtempSync(join(tmpdir(), "vmstream-fuzz-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
  rssKiB: number;
  ms: number;
}

/** Spawn the CLI; peak RSS from GNU time's ru_maxrss, or VmHWM polled from /proc. */
function cli(args: string[], stdin?: Uint8Array): Promise<Result> {
  return new Promise((resolve, reject) => {
    const argv = GNU_TIME ? ["-f", "@@RSS %M", process.execPath, BIN, ...args] : [BIN, ...args];
    const t0 = Date.now();
    const p = spawn(GNU_TIME ?? process.execPath, argv, { cwd: REPO, stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    if (stdin) {
      p.stdin!.on("error", () => {});
      p.stdin!.end(Buffer.from(stdin));
    }
    let out = "";
    let err = "";
    let hwm = 0;
    const poll = GNU_TIME
      ? null
      : setInterval(() => {
          try {
            hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))?.[1] ?? 0));
          } catch {}
        }, 5);
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`vmstream ${args.join(" ")}: no exit after ${TIME_LIMIT_MS} ms`));
    }, TIME_LIMIT_MS);
    p.stdout.on("data", (d) => {
      if (out.length < 1 << 20) out += d;
    });
    p.stderr.on("data", (d) => (err += d));
    const stop = () => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
    };
    p.on("error", (e) => {
      stop();
      reject(e);
    });
    p.on("close", (code) => {
      stop();
      const m = /@@RSS (\d+)\n?/.exec(err);
      let stderr = err.replace(/@@RSS \d+\n?/, "");
      // GNU time reports a non-zero status itself.
      const st = /Command exited with non-zero status (\d+)\n?/.exec(stderr);
      stderr = stderr.replace(/Command exited with non-zero status \d+\n?/, "");
      resolve({ code: st ? Number(st[1]) : code, stdout: out, stderr, rssKiB: m ? Number(m[1]) : hwm, ms: Date.now() - t0 });
    });
  });
}

const ERROR_LINE = /^(.+): ((?:[a-z]+@[0-9]+)|unknown): offset (\d+): (.+)$/;

/** The contract for one run on `file` (of `size` bytes). */
function checkContract(r: Result, file: string, size: number): void {
  const what = `exit ${r.code}, stderr: ${r.stderr.slice(0, 400)}`;
  expect([0, 1], what).toContain(r.code);
  expect(r.stderr, "stack trace").not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(r.stderr, "internal error").not.toMatch(/internal error/);
  expect(r.rssKiB, `peak RSS ${r.rssKiB} KiB`).toBeLessThanOrEqual(RSS_LIMIT_KIB);
  if (r.code === 1) {
    const lines = r.stderr.trimEnd().split("\n");
    const fault = lines.filter((l) => !/: note: /.test(l));
    expect(fault.length, what).toBe(1);
    const m = ERROR_LINE.exec(fault[0]!);
    expect(m, `not the contract line: ${fault[0]}`).not.toBeNull();
    expect(m![1]).toBe(file);
    expect(Number(m![3])).toBeLessThanOrEqual(size);
  }
}

/** Which command a case runs, by its number: every command gets exercised on every family. */
const COMMANDS = ["verify", "inspect", "inspect --json", "decode", "recode", "convert", "inspect --json --view analyze"] as const;

function casesFor(family: Family): Uint8Array[] {
  const files = corpus(family, 2 << 20);
  if (!files.length) return [];
  return fc.sample(fuzzInput(files), { seed: SEED + FAMILIES.indexOf(family), numRuns: PER_FAMILY });
}

describe.each(FAMILIES)("vmstream on mutated %s streams", (family) => {
  const cases = casesFor(family);
  it.runIf(cases.length > 0)(`${PER_FAMILY} cases: exit 0/1, the contract line, bounded time and memory, no partial output`, async () => {
    const one = async (i: number) => {
      const input = join(dir, `${family}-${i}.bin`);
      writeFileSync(input, cases[i]!);
      const cmd = COMMANDS[(i + FAMILIES.indexOf(family)) % COMMANDS.length]!;
      const outDir = mkdtempSync(join(dir, "out-"));
      const out = join(outDir, "out.bin");
      let args: string[];
      if (cmd === "recode") args = ["recode", input, out];
      else if (cmd === "convert") args = ["convert", input, out, "--to", family === "legacy" ? "libxc" : family === "qemu" ? "qemu@4" : family];
      else if (cmd === "decode") args = ["decode", input];
      else args = [...cmd.split(" ").slice(0, 1), input, ...cmd.split(" ").slice(1)];
      const r = await cli(args);
      // convert to a target the family does not have is a usage error (exit 2 by contract): nothing to check.
      if (r.code === 2 && cmd === "convert") return;
      checkContract(r, input, cases[i]!.length);
      if (r.code !== 0 && (cmd === "recode" || cmd === "convert")) expect(readdirSync(outDir), `${cmd} left files`).toEqual([]);
    };
    for (let i = 0; i < cases.length; i += PARALLEL) {
      await Promise.all(cases.slice(i, i + PARALLEL).map((_, k) => one(i + k)));
    }
    // And one through standard input (the pipe source), named "-" in the error line.
    const last = cases[cases.length - 1]!;
    checkContract(await cli(["verify", "-"], last), "-", last.length);
  });
});

describe.each(FAMILIES)("nothing lost: %s", (family) => {
  const files = corpusFiles(family).filter((f) => statSync(f).size <= 2 << 20 && !f.endsWith(".gz"));
  it.runIf(files.length > 0)("recode of a valid fixture is byte-identical; a damaged one leaves no file; output = input is refused", async () => {
    const src = files[0]!;
    const bytes = readFileSync(src);
    const d = mkdtempSync(join(dir, `${family}-`));
    const out = join(d, "out.bin");
    const ok = await cli(["recode", src, out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);

    const cut = join(d, "cut.bin");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const bad = await cli(["recode", cut, join(d, "cut.out")]);
    checkContract(bad, cut, Math.floor(bytes.length * 0.6));
    expect(bad.code).toBe(1);
    expect(readdirSync(d).sort()).toEqual(["cut.bin", "out.bin"]);

    const self = join(d, "self.bin");
    writeFileSync(self, bytes);
    const same = await cli(["recode", self, self]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/refus/);
    expect(readFileSync(self).equals(bytes)).toBe(true);
  });
});
