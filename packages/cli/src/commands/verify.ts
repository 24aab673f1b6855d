import { type Command, formatOptions } from "../command.js";
import { writeStdout } from "../io.js";
import { printableLine } from "../printable.js";
import { withInput } from "../input.js";
import { containerKind } from "../container.js";
import { type Ctx, guarded } from "../report.js";

/** `vmstream verify`: exit 0 and one "valid" line, or exit 1 and the contract line on stderr. */
export const verify: Command = {
  options: { ...formatOptions },
  positionals: [1, 1],
  async run([file], flags) {
    // A qcow2 image without --snapshot: every snapshot's VM state (commands/containers.ts).
    if (flags.snapshot === undefined && (await containerKind(file!)) === "qcow2") {
      return (await import("./containers.js")).verifySnapshots(file!, flags);
    }
    const ctx: Ctx = { file: file!, command: "verify" };
    await guarded(ctx, () =>
      withInput(ctx, file!, flags, async (o) => {
        const rep = await o.codec.verify(o.reader, o.version, o.opts);
        await writeStdout(`${ctx.file}: ${rep.format}: valid (${rep.items} records, ${rep.bytes} bytes)\n`);
        for (const n of rep.notes) process.stderr.write(`${printableLine(`${ctx.file}: ${rep.format}: note: ${n}`)}\n`);
      }),
    );
  },
};
