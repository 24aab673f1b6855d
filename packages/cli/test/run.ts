import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../bin/vmstream.cjs", import.meta.url));
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Run the built CLI (npm test builds first) with optional standard input. */
export function vmstream(args: string[], stdin?: Uint8Array, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`vmstream ${args.join(" ")} timed out`));
    }, timeoutMs);
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => err.push(d));
    p.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() });
    });
    p.stdin.on("error", () => {});
    p.stdin.end(stdin ? Buffer.from(stdin) : undefined);
  });
}

/** Map `fn` over `items`, `limit` at a time: the tests spawn many short CLI processes. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
