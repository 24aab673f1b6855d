/**
 * `vmstream matrix`: render a matrix.json it is given (`--input`), which works
 * from an installed CLI, or run the compat matrix inside a vmstream checkout.
 * The CLI never imports the private compat workspace: it spawns
 * `compat/bin/compat.mjs` found above the working directory, and renders with
 * the matrix model of @vmstream/testing (its `./matrix` entry, which needs no
 * fast-check).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { matrixPasses, parseMatrix, renderHtml, renderJson, renderMarkdown } from "@vmstream/testing/matrix";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";

/** The checkout root above `start`: the directory holding compat/bin/compat.mjs. */
export function findCheckout(start: string): string | null {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, "compat", "bin", "compat.mjs")) && existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

const str = (v: unknown, name: string): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} needs a FILE`);
  return v;
};

function write(path: string, text: string): Promise<void> | void {
  if (path === "-") return writeStdout(text);
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, text);
}

async function readInput(path: string): Promise<string> {
  if (path !== "-") {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      // Reported by the caller as `PATH: message`, exit 1 (docs/cli.md: matrix exits 0 or 1).
      throw new Error(`cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString("utf8");
}

export async function matrixCommand(flags: Record<string, unknown>): Promise<void> {
  const json = str(flags.json, "json");
  const markdown = str(flags.markdown, "markdown");
  const html = str(flags.html, "html");
  const input = str(flags.input, "input");

  if (input !== undefined) {
    let m: ReturnType<typeof parseMatrix>;
    try {
      m = parseMatrix(JSON.parse(await readInput(input)));
    } catch (e) {
      process.stderr.write(`${input}: ${(e as Error).message}\n`);
      process.exitCode = 1;
      return;
    }
    const opts = { title: "vmstream compatibility matrix" };
    if (json) await write(json, renderJson(m));
    if (markdown) await write(markdown, renderMarkdown(m, opts));
    if (html) await write(html, renderHtml(m, opts));
    if (!json && !markdown && !html) await writeStdout(renderMarkdown(m, opts));
    process.exitCode = matrixPasses(m) ? 0 : 1;
    return;
  }

  const root = findCheckout(process.cwd());
  if (!root) {
    // Not a usage error: the command is right, there is just no matrix here to run (docs/cli.md: exit 0 or 1).
    process.stderr.write("vmstream matrix: no matrix to run here (running one needs a vmstream checkout: compat/bin/compat.mjs above the working directory); pass --input matrix.json to render one\n");
    process.exitCode = 1;
    return;
  }
  const args = [join(root, "compat", "bin", "compat.mjs")];
  // Paths are resolved against the caller's directory, since the runner starts at the root.
  if (json) args.push("--json", json === "-" ? "/dev/stdout" : resolve(json));
  if (markdown) args.push("--markdown", markdown === "-" ? "/dev/stdout" : resolve(markdown));
  if (html) args.push("--html", html === "-" ? "/dev/stdout" : resolve(html));
  const code = await new Promise<number>((done, fail) => {
    const p = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
    p.on("error", fail);
    p.on("close", (c) => done(c ?? 1));
  });
  // The runner exits 0 (all required cells pass), 1 (some do not) or 2 (not built).
  process.exitCode = code === 0 ? 0 : 1;
}
