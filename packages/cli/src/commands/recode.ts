import { type Command, formatOptions } from "../command.js";
import { openOutput, withOutput } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** `vmstream recode IN OUT`: decode and re-encode in one streaming pass. */
export const recode: Command = {
  options: { ...formatOptions },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    const ctx: Ctx = { file: inPath!, command: "recode" };
    await guarded(ctx, async () => {
      const sink = await openOutput(outPath!, [inPath!]);
      await withOutput(sink, (s) => withInput(ctx, inPath!, flags, (o) => o.codec.recode(o.reader, o.version, s, o.opts)));
    });
  },
};
