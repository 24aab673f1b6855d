import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

/**
 * The pipe path of `stdinSource`/`fileSource` (blocking reads on the main
 * thread; with VMSTREAM_PIPE_THREAD=1 a reader thread past the prologue) only
 * exists in the built package: the thread's script is `dist/stdin-worker.js`.
 * These tests spawn Node on `dist/` and feed it through real pipes and FIFOs,
 * in both modes.
 */
const DIST = fileURLToPath(new URL("../dist/", import.meta.url));
const FRAMING = fileURLToPath(new URL("../../framing/dist/index.js", import.meta.url));
const built = existsSync(join(DIST, "stdin-worker.js")) && existsSync(FRAMING);
if (!built) console.warn("node: skipping the pipe-source tests: dist/stdin-worker.js or framing's dist/ is missing (run npm run build)");
const dir = mkdtempSync(join(tmpdir(), "node-pipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A script that reads its input through the production source and prints size and SHA-256. */
const READER = `
import { StreamReader } from ${JSON.stringify(FRAMING)};
import { fileSource, stdinSource } from ${JSON.stringify(join(DIST, "index.js"))};
import { createHash } from "node:crypto";
const path = process.argv[2];
const stop = Number(process.argv[3] ?? Infinity);
const r = new StreamReader(path === "-" ? await stdinSource() : await fileSource(path), { chunkSize: 100_003 });
const h = createHash("sha256");
let n = 0;
if (process.argv[4] === "skip") {
  // Alternate a skip (seeks on the pipe source) and a small read, like a verifier over pages.
  for (;;) {
    try {
      await r.skip(300_000);
    } catch {
      break;
    }
    if (!(await r.fill(1000))) break;
    h.update(r.take(1000));
    n += 1000;
  }
}
while (n < stop && (await r.fill(1))) {
  const k = Math.min(r.buffered, 77_777, stop - n);
  h.update(r.take(k));
  n += k;
}
await r.close();
if (process.argv[5] === "stdin-state") {
  // Closing the source must leave process.stdin usable (it is not ours to destroy).
  process.stdout.write(n + " destroyed=" + process.stdin.destroyed, () => process.exit(0));
} else process.stdout.write(n + " " + h.digest("hex"));
`;
const script = join(dir, "reader.mjs");
writeFileSync(script, READER);

function payload(size: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = 0x12345678;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** "1" runs the reader thread (VMSTREAM_PIPE_THREAD), "0" the default main-thread reads. */
let thread = "0";

function run(args: string[], input: Uint8Array | null, shell?: string, stdin: "pipe" | number = "pipe"): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, VMSTREAM_PIPE_THREAD: thread };
    const p = shell
      ? spawn("sh", ["-c", shell], { stdio: ["ignore", "pipe", "pipe"], env })
      : spawn(process.execPath, [script, ...args], { stdio: [stdin, "pipe", "pipe"], env });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error("timed out"));
    }, 30_000);
    p.stdout!.on("data", (d) => (out += d));
    p.stderr!.on("data", (d) => (err += d));
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    if (!shell && p.stdin) {
      p.stdin.on("error", () => {});
      p.stdin!.end(input ? Buffer.from(input) : undefined);
    }
  });
}

describe.skipIf(!built).each([
  ["main-thread reads", "0"],
  ["reader thread", "1"],
])("pipe sources (built package, %s)", (_name, mode) => {
  beforeEach(() => {
    thread = mode;
  });
  const big = payload(9 * 1024 * 1024 + 12345);
  const bigFile = join(dir, "big.bin");
  writeFileSync(bigFile, big);
  const q = JSON.stringify;

  it("standard input from a shell pipe delivers every byte in order", async () => {
    const r = await run([], null, `cat ${q(bigFile)} | ${q(process.execPath)} ${q(script)} -`);
    expect(r.err).toBe("");
    expect(r.out).toBe(`${big.length} ${sha(big)}`);
  });

  it("standard input from a socket (Node's spawn) and small inputs read without a thread", async () => {
    const small = payload(1000);
    expect((await run(["-"], small)).out).toBe(`1000 ${sha(small)}`);
    expect((await run(["-"], new Uint8Array(0))).out).toBe(`0 ${sha(new Uint8Array(0))}`);
    expect((await run(["-"], big)).out).toBe(`${big.length} ${sha(big)}`);
  });

  it("skips over a pipe discard exactly the bytes asked, before and after the thread starts", async () => {
    const h = createHash("sha256");
    let n = 0;
    for (let at = 300_000; at + 1000 <= big.length; at += 301_000) {
      h.update(big.subarray(at, at + 1000));
      n += 1000;
    }
    const r = await run([], null, `cat ${q(bigFile)} | ${q(process.execPath)} ${q(script)} - Infinity skip`);
    expect(r.err).toBe("");
    expect(r.out).toBe(`${n} ${h.digest("hex")}`);
  });

  // One FIFO per mode: the second mkfifo of one path would fail and skip the test.
  const fifo = join(dir, `fifo-${mode}`);
  const hasFifo = spawnSync("mkfifo", [fifo]).status === 0;
  if (!hasFifo) console.warn("node: skipping the FIFO test: mkfifo failed on this machine");
  it.skipIf(!hasFifo)("a FIFO opened as a file is read the same way", async () => {
    const r = await run([], null, `cat ${q(bigFile)} > ${q(fifo)} & ${q(process.execPath)} ${q(script)} ${q(fifo)}; wait`);
    expect(r.out).toBe(`${big.length} ${sha(big)}`);
  });

  it("a reader that stops early exits promptly while the writer is still writing", async () => {
    const stop = 3 * 1024 * 1024;
    const t = Date.now();
    const r = await run([], null, `cat ${q(bigFile)} ${q(bigFile)} ${q(bigFile)} | ${q(process.execPath)} ${q(script)} - ${stop}`);
    expect(r.out).toBe(`${stop} ${sha(big.subarray(0, stop))}`);
    expect(Date.now() - t).toBeLessThan(20_000);
  });

  it("standard input that is a character device (/dev/zero) is read through the chunk loop and stays usable after close", async () => {
    const zero = openSync("/dev/zero", "r");
    try {
      const r = await run(["-", "1000", "read", "stdin-state"], null, undefined, zero);
      expect(r.err).toBe("");
      expect(r.out).toBe("1000 destroyed=false");
    } finally {
      closeSync(zero);
    }
  });
});
