import { type Command, formatOptions } from "../command.js";
import { writeStdout } from "../io.js";
import { printableLine } from "../printable.js";
import { withInput } from "../input.js";
import { containerKind } from "../container.js";
import { type Ctx, errorLine, guarded } from "../report.js";

/**
 * `vmstream verify`: exit 0 and one "valid" line, or exit 1 and the contract
 * line on stderr. Warnings (damage the real loader would not notice: a cut
 * vmdesc trailer, bytes after the end) print as `offset N: warning: …` lines
 * and keep exit 0; `--strict` makes them failures (exit 1, no "valid" line).
 */
export const verify: Command = {
  options: { ...formatOptions, strict: { type: "boolean" } },
  positionals: [1, 1],
  async run([file], flags) {
    // A qcow2 image without --snapshot: every snapshot's VM state (commands/containers.ts).
    if (flags.snapshot === undefined && (await containerKind(file!)) === "qcow2") {
      return (await import("./containers.js")).verifySnapshots(file!, flags);
    }
    const ctx: Ctx = { file: file!, command: "verify" };
    const strict = flags.strict === true;
    await guarded(ctx, () =>
      withInput(ctx, file!, flags, async (o) => {
        const rep = await o.codec.verify(o.reader, o.version, strict ? { ...o.opts, strict: true } : o.opts);
        const warnings = rep.warnings ?? [];
        const c = { ...ctx, format: rep.format };
        // A codec that does not fail on warnings itself still fails under --strict.
        if (strict && warnings.length > 0) {
          for (const w of warnings) process.stderr.write(`${errorLine(c, w.offset, w.message)}\n`);
          process.exitCode = 1;
          return;
        }
        await writeStdout(`${ctx.file}: ${rep.format}: valid (${rep.items} records, ${rep.bytes} bytes)${warnings.length ? `, ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""}\n`);
        for (const w of warnings) process.stderr.write(`${errorLine(c, w.offset, `warning: ${w.message}`)}\n`);
        for (const n of rep.notes) process.stderr.write(`${printableLine(`${ctx.file}: ${rep.format}: note: ${n}`)}\n`);
      }),
    );
  },
};
