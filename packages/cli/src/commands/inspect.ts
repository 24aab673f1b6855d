import { type Inspection, WireError, jsonText } from "@vmstream/framing";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { familyTitle } from "../registry.js";
import { type Ctx, guarded, partialOf } from "../report.js";
import { styleFor } from "../style.js";

const hex = (n: number) => `0x${n.toString(16)}`;

/** The frame line above a codec's summary: which file, which format, how big. */
export function headline(file: string, format: string | undefined, size: number | undefined): string {
  const fmt = format ? `${format} — ${familyTitle(format.split("@")[0]!)}` : "format unknown";
  const bytes = size === undefined ? "" : `, ${size.toLocaleString("en-US")} bytes`;
  return `${file}: ${fmt}${bytes}`;
}

/**
 * `vmstream inspect`: a readable summary by default, JSON with --json or
 * --view. On a fault it still prints what was understood (when the codec
 * attached a partial inspection), a "first fault" line, and the contract error
 * line on stderr (exit 1).
 */
export const inspect: Command = {
  options: { ...formatOptions, json: { type: "boolean" }, view: { type: "string" } },
  positionals: [1, 1],
  async run([file], flags) {
    if (flags.view !== undefined && flags.view !== "analyze") throw new UsageError(`unknown view '${flags.view}' (known: analyze)`);
    const json = flags.json === true || flags.view !== undefined;
    const ctx: Ctx = { file: file! };
    const st = styleFor(process.stdout);
    let size: number | undefined;
    const show = async (ins: Inspection) => {
      if (json) await writeStdout(`${jsonText(ins.json, 2)}\n`);
      else await writeStdout(`${st.bold(headline(file!, ctx.format, size))}\n\n${ins.text.replace(/\n+$/, "")}\n`);
    };
    await guarded(ctx, async () => {
      try {
        await withInput(ctx, file!, flags, async (o) => {
          size = o.size;
          await show(await o.codec.inspect(o.reader, o.version, o.opts));
        });
      } catch (e) {
        // Readable mode: show what was understood and where it broke before the contract line.
        if (!json && e instanceof WireError) {
          const partial = partialOf(e);
          const head = st.bold(headline(file!, ctx.format, size));
          const body = partial ? `\n\n${partial.text.replace(/\n+$/, "")}\n` : "\n";
          await writeStdout(`${head}${body}\n${st.red(`first fault  offset ${e.offset} (${hex(e.offset)}): ${e.message}`)}\n`);
        }
        throw e;
      }
    });
  },
};
