import { type Command, formatOptions } from "../command.js";
import { openOutput } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** Pieces are joined up to this many characters so stdout sees few, large writes. */
const FLUSH_AT = 1 << 20;

/** `vmstream decode`: the lossless JSON document on stdout, streamed. */
export const decode: Command = {
  options: { ...formatOptions },
  positionals: [1, 1],
  async run([file], flags) {
    const ctx: Ctx = { file: file!, command: "decode" };
    await guarded(ctx, () =>
      withInput(ctx, file!, flags, async (o) => {
        const out = await openOutput("-", []);
        const enc = new TextEncoder();
        let pending = "";
        for await (const piece of o.codec.decode(o.reader, o.version, o.opts)) {
          pending += piece;
          if (pending.length > FLUSH_AT) {
            await out.write(enc.encode(pending));
            pending = "";
          }
        }
        await out.write(enc.encode(pending));
      }),
    );
  },
};
