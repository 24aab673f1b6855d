import { parseArgs } from "node:util";
import { type CodecOptions, type FamilyCodec, type FormatId, type StreamReader, WireError, jsonText } from "@vmstream/framing";
import { UsageError } from "./errors.js";
import { HELP, commandHelp } from "./help.js";
import { inputSize, openInput, openOutput, withOutput, writeStdout } from "./io.js";
import { progressFor } from "./progress.js";
import { codecFor, detect, parseFormat } from "./registry.js";

type Flags = Record<string, string | boolean | undefined>;

interface Command {
  options: Record<string, { type: "string" | "boolean"; short?: string }>;
  positionals: [min: number, max: number];
  run(pos: string[], flags: Flags): Promise<void>;
}

/** What the error line names: the file and, once known, the format. */
interface Ctx {
  file: string;
  format?: string;
}

const formatFlag = { format: { type: "string" as const }, schema: { type: "string" as const } };

/** Open an input, detect or take its format, and hand both to `fn`. */
async function withInput<T>(
  ctx: Ctx,
  path: string,
  flags: Flags,
  fn: (r: StreamReader, codec: FamilyCodec, version: string, opts: CodecOptions) => Promise<T>,
): Promise<T> {
  const size = inputSize(path);
  const bar = progressFor(size, "vmstream");
  const r = await openInput(path, { onProgress: (o) => bar.update(o) });
  try {
    let codec: FamilyCodec;
    let version: string;
    if (typeof flags.format === "string") {
      const f = parseFormat(flags.format);
      codec = codecFor(f.family);
      version = f.version;
    } else {
      await r.fill(4096);
      const found = detect(r.peek(4096));
      if (!found) {
        throw new WireError(
          "UNDETECTED",
          r.buffered < 8
            ? `too short to hold any stream header (${r.buffered} bytes); pass --format FAMILY@VERSION to name it`
            : "cannot detect the stream format from its header; pass --format FAMILY@VERSION",
          0,
        );
      }
      codec = found.codec;
      version = found.version;
    }
    ctx.format = `${codec.family}@${version}`;
    const opts: CodecOptions = {};
    if (typeof flags.width === "string") opts.width = flags.width === "32" ? 32 : 64;
    if (typeof flags.guest === "string") opts.guest = flags.guest as "pv" | "hvm";
    if (typeof flags.view === "string") opts.view = flags.view;
    if (typeof flags.schema === "string") {
      const sp = flags.schema;
      opts.schema = () => openInput(sp);
    }
    return await fn(r, codec, version, opts);
  } finally {
    bar.stop();
    await r.close().catch(() => {});
  }
}

const commands: Record<string, Command> = {
  inspect: {
    options: { ...formatFlag, json: { type: "boolean" }, view: { type: "string" } },
    positionals: [1, 1],
    async run([file], flags) {
      if (flags.view !== undefined && flags.view !== "analyze") throw new UsageError(`unknown view '${flags.view}' (known: analyze)`);
      const ctx: Ctx = { file: file! };
      await guarded(ctx, () =>
        withInput(ctx, file!, flags, async (r, codec, version, opts) => {
          const ins = await codec.inspect(r, version, opts);
          await writeStdout(flags.json || flags.view ? `${jsonText(ins.json, 2)}\n` : `${ins.text}\n`);
        }),
      );
    },
  },
  verify: {
    options: { ...formatFlag },
    positionals: [1, 1],
    async run([file], flags) {
      const ctx: Ctx = { file: file! };
      await guarded(ctx, () =>
        withInput(ctx, file!, flags, async (r, codec, version, opts) => {
          const rep = await codec.verify(r, version, opts);
          await writeStdout(`${file}: ${rep.format}: valid (${rep.items} records, ${rep.bytes} bytes)\n`);
          for (const n of rep.notes) process.stderr.write(`${file}: ${rep.format}: note: ${n}\n`);
        }),
      );
    },
  },
  decode: {
    options: { ...formatFlag },
    positionals: [1, 1],
    async run([file], flags) {
      const ctx: Ctx = { file: file! };
      await guarded(ctx, () =>
        withInput(ctx, file!, flags, async (r, codec, version, opts) => {
          const out = await openOutput("-", []);
          const enc = new TextEncoder();
          // Buffer pieces so stdout sees large writes, while memory stays bounded.
          let pending = "";
          for await (const piece of codec.decode(r, version, opts)) {
            pending += piece;
            if (pending.length > 1 << 20) {
              await out.write(enc.encode(pending));
              pending = "";
            }
          }
          await out.write(enc.encode(pending));
        }),
      );
    },
  },
  encode: {
    options: {},
    positionals: [2, 2],
    async run([json, outPath]) {
      const ctx: Ctx = { file: json! };
      await guarded(ctx, async () => {
        const r = await openInput(json!);
        let doc: unknown;
        try {
          const { readAll } = await import("@vmstream/framing");
          const text = new TextDecoder().decode(await readAll(r));
          try {
            doc = JSON.parse(text);
          } catch (e) {
            throw new WireError("MALFORMED", `not valid JSON: ${(e as Error).message}`, 0);
          }
        } finally {
          await r.close();
        }
        const format = (doc as { format?: unknown } | null)?.format;
        if (typeof format !== "string") throw new WireError("MALFORMED", "the document has no \"format\" field (family@version)", 0);
        let f: FormatId;
        try {
          f = parseFormat(format);
        } catch (e) {
          throw new WireError("MALFORMED", (e as Error).message, 0);
        }
        ctx.format = `${f.family}@${f.version}`;
        const codec = codecFor(f.family);
        const sink = await openOutput(outPath!, [json!]);
        await withOutput(sink, (s) => codec.encode(doc, s, {}));
      });
    },
  },
  recode: {
    options: { ...formatFlag },
    positionals: [2, 2],
    async run([inPath, outPath], flags) {
      const ctx: Ctx = { file: inPath! };
      await guarded(ctx, async () => {
        const sink = await openOutput(outPath!, [inPath!]);
        await withOutput(sink, (s) => withInput(ctx, inPath!, flags, (r, codec, version, opts) => codec.recode(r, version, s, opts)));
      });
    },
  },
  convert: {
    options: { ...formatFlag, to: { type: "string" }, width: { type: "string" }, guest: { type: "string" } },
    positionals: [2, 2],
    async run([inPath, outPath], flags) {
      if (typeof flags.to !== "string") throw new UsageError("convert needs --to FAMILY[@VERSION]");
      if (flags.width !== undefined && flags.width !== "32" && flags.width !== "64") throw new UsageError("--width is 32 or 64");
      if (flags.guest !== undefined && flags.guest !== "pv" && flags.guest !== "hvm") throw new UsageError("--guest is pv or hvm");
      const to = parseFormat(flags.to);
      const ctx: Ctx = { file: inPath! };
      await guarded(ctx, async () => {
        const sink = await openOutput(outPath!, [inPath!]);
        await withOutput(sink, (s) =>
          withInput(ctx, inPath!, flags, async (r, codec, version, opts) => {
            if (!codec.convert) throw new WireError("REFUSED", `${codec.family} streams cannot be converted`, 0);
            const targets = codec.convertTargets?.(version);
            if (targets && !targets.some((t) => t.family === to.family && t.version === to.version)) {
              const list = targets.map((t) => `${t.family}@${t.version}`).join(", ") || "none";
              throw new WireError("REFUSED", `cannot convert ${codec.family}@${version} to ${to.family}@${to.version} (targets: ${list})`, 0);
            }
            await codec.convert(r, version, to, s, opts);
          }),
        );
      });
    },
  },
  "schema-diff": {
    options: { json: { type: "boolean" } },
    positionals: [2, 2],
    async run(pos, flags) {
      const { schemaDiffCommand } = await import("./commands/schema-diff.js");
      await schemaDiffCommand(pos[0]!, pos[1]!, flags.json === true);
    },
  },
  matrix: {
    options: { json: { type: "string" }, markdown: { type: "string" }, html: { type: "string" }, input: { type: "string" } },
    positionals: [0, 0],
    async run(_pos, flags) {
      const { matrixCommand } = await import("./commands/matrix.js");
      await matrixCommand(flags);
    },
  },
};

/**
 * Run `fn`; a WireError becomes the contract line `FILE: family@version: offset N: message`
 * and exit code 1. Anything else unexpected is reported the same way (never a stack trace).
 */
async function guarded(ctx: Ctx, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const fmt = ctx.format ?? "unknown";
    if (e instanceof WireError) {
      process.stderr.write(`${ctx.file}: ${fmt}: offset ${e.offset}: ${e.message}\n`);
    } else if ((e as NodeJS.ErrnoException)?.code === "EPIPE") {
      // The reader of our output went away: nothing to report.
    } else {
      process.stderr.write(`${ctx.file}: ${fmt}: offset 0: internal error: ${(e as Error)?.message ?? String(e)}\n`);
      if (process.env.VMSTREAM_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    }
    process.exitCode = 1;
  }
}

export async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? rest[0] : undefined;
      await writeStdout(topic && commands[topic] ? commandHelp(topic) : HELP);
      if (name === undefined) process.exitCode = 2;
      return;
    }
    if (name === "--version" || name === "-V") {
      const { createRequire } = await import("node:module");
      const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
      await writeStdout(`${pkg.version}\n`);
      return;
    }
    const cmd = commands[name];
    if (!cmd) throw new UsageError(`unknown command '${name}'`);
    if (rest.includes("--help") || rest.includes("-h")) {
      await writeStdout(commandHelp(name));
      return;
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: cmd.options, allowPositionals: true, strict: true });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const [min, max] = cmd.positionals;
    if (parsed.positionals.length < min) throw new UsageError(`${name}: missing argument (see 'vmstream ${name} --help')`);
    if (parsed.positionals.length > max) throw new UsageError(`${name}: unexpected argument '${parsed.positionals[max]}'`);
    await cmd.run(parsed.positionals, parsed.values as Flags);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`vmstream: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`vmstream: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    process.exitCode = 1;
  }
}
