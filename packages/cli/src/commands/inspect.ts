import { familyTitle } from "@vmstream/codecs";
import { type Inspection, WireError, jsonText } from "@vmstream/framing";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { faultContext } from "../hexdump.js";
import { inputSize, writeStdout } from "../io.js";
import { withInput } from "../input.js";
import { printable, printableLine } from "../printable.js";
import { containerKind } from "../container.js";
import { type Ctx, embeddedFault, guarded, partialOf } from "../report.js";
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
 * --view. A damaged stream (exit 1) still shows what was understood — the
 * codec's partial inspection, thrown with the fault (`err.partial`) or
 * returned with a `fault` field — then a "first fault" line, and the contract
 * error line on stderr.
 */
export const inspect: Command = {
  options: { ...formatOptions, json: { type: "boolean" }, view: { type: "string" }, xml: { type: "boolean" } },
  positionals: [1, 1],
  async run([file], flags) {
    if (flags.view !== undefined && flags.view !== "analyze") throw new UsageError(`unknown view '${flags.view}' (known: analyze)`);
    // A qcow2 image without --snapshot: its snapshot table and a verdict per VM state (commands/containers.ts).
    if (flags.snapshot === undefined && flags.view === undefined && (await containerKind(file!)) === "qcow2") {
      return (await import("./containers.js")).inspectSnapshots(file!, flags);
    }
    const json = flags.json === true || flags.view !== undefined;
    const ctx: Ctx = { file: file!, command: "inspect" };
    const st = styleFor(process.stdout);
    let size = inputSize(file!); // known even when detection fails
    let container: { text: string; json: unknown } | undefined;

    const show = async (ins: Inspection | undefined, fault: { offset: number; message: string } | undefined) => {
      if (json && container && flags.view === undefined) {
        await writeStdout(`${jsonText({ ...(container.json as object), stream: ins?.json ?? null }, 2)}\n`);
        return;
      }
      if (json) {
        // QEMU's analyze view carries the script's exact text: print it, so a
        // diff against analyze-migration.py output is empty, not just a jq match.
        if (ins && flags.view === "analyze" && ins.format.startsWith("qemu@") && ins.text) {
          await writeStdout(ins.text.endsWith("\n") ? ins.text : `${ins.text}\n`);
        } else if (ins) await writeStdout(`${jsonText(ins.json, 2)}\n`);
        return;
      }
      const text = ins ? printable(ins.text.replace(/\n+$/, "")) : "";
      let out = `${container ? `${container.text}\n` : ""}${st.bold(headline(ctx.file, ctx.format, size))}\n${text ? `\n${text}\n` : ""}`;
      // Codecs that already print the fault in their summary are not repeated.
      const why = printableLine(fault?.message ?? "");
      if (fault && !text.includes(why)) out += `\n${st.red(`first fault  offset ${fault.offset} (${hex(fault.offset)}): ${why}`)}\n`;
      if (fault && !container) {
        const around = await faultContext(file!, fault.offset, size, st.red);
        if (around) out += `${text.includes(why) ? "\n" : ""}${around}\n`;
      }
      await writeStdout(out);
    };

    await guarded(ctx, async () => {
      let ins: Inspection | undefined;
      let fault: WireError | undefined;
      try {
        await withInput(ctx, file!, flags, async (o) => {
          if (o.container) ({ container, size } = { container: o.container, size: o.size });
          ins = await o.codec.inspect(o.reader, o.version, o.opts);
        });
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        fault = e;
        ins = partialOf(e);
      }
      const embedded = ins && !fault ? embeddedFault(ins) : undefined;
      if (embedded) fault = new WireError("MALFORMED", embedded.message, embedded.offset);
      await show(ins, fault);
      if (fault) throw fault; // the contract line and exit 1
    });
  },
};
