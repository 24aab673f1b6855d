import { parseArgs } from "node:util";
import { resolveCommand } from "./commands/index.js";
import type { Flags } from "./command.js";
import { UsageError, isUsageError } from "./errors.js";
import { guardStdout, writeStdout } from "./stdout.js";

/**
 * The version, inlined by the bundler (packages/cli/bundle.config.mjs); the
 * unbundled build reads package.json instead.
 */
declare const __VMSTREAM_VERSION__: string | undefined;

/**
 * The `vmstream` entry point. Exit codes go through `process.exitCode`, never
 * `process.exit()`, so output still being written to a pipe is not cut short.
 */
export async function main(argv: string[]): Promise<void> {
  // A reader that goes away (`vmstream decode x | head`) is its choice, not a
  // fault of ours: without a listener Node would die with a stack trace.
  // Pending writes then fail with EPIPE, which the commands ignore.
  // (Attached when something first creates process.stdout: see stdout.ts.)
  guardStdout((e) => {
    if (e.code !== "EPIPE") process.exitCode = 1;
  });
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? rest[0] : undefined;
      const { HELP, commandHelp } = await import("./help.js");
      await writeStdout(topic ? commandHelp(topic) : HELP);
      if (name === undefined) process.exitCode = 2;
      return;
    }
    if (name === "--version" || name === "-V") {
      await writeStdout(`${typeof __VMSTREAM_VERSION__ === "string" ? __VMSTREAM_VERSION__ : await packageVersion()}\n`);
      return;
    }
    const cmd = await resolveCommand(name);
    if (!cmd) throw new UsageError(`unknown command '${name}' (see 'vmstream --help')`);
    if (rest.includes("--help") || rest.includes("-h")) {
      const { commandHelp } = await import("./help.js");
      await writeStdout(commandHelp(name));
      return;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError(`${name}: ${(e as Error).message}`);
    }
    const [min, max] = cmd.positionals;
    if (parsed.positionals.length < min) throw new UsageError(`${name}: missing argument (see 'vmstream ${name} --help')`);
    if (parsed.positionals.length > max) throw new UsageError(`${name}: unexpected argument '${parsed.positionals[max]}'`);
    await cmd.run(parsed.positionals, parsed.values as Flags);
  } catch (e) {
    if (isUsageError(e)) {
      process.stderr.write(`vmstream: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`vmstream: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

async function packageVersion(): Promise<string> {
  const { createRequire } = await import("node:module");
  return (createRequire(import.meta.url)("../package.json") as { version: string }).version;
}
