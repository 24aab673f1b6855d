import { type Command, formatOptions } from "../command.js";
import { openOutput } from "../io.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** Pieces are gathered into a buffer of this many bytes so stdout sees few, large writes. */
const BLOCK = 1 << 20;

/** `vmstream decode`: the lossless JSON document on stdout, streamed. */
export const decode: Command = {
  options: { ...formatOptions },
  positionals: [1, 1],
  async run([file], flags) {
    const ctx: Ctx = { file: file!, command: "decode" };
    await guarded(ctx, () =>
      withInput(ctx, file!, flags, async (o) => {
        const out = await openOutput("-", []);
        if (o.codec.decodeBytes) {
          // Every family writes its document as bytes in blocks of about 1 MiB: each goes out as it is.
          for await (const block of o.codec.decodeBytes(o.reader, o.version, o.opts)) await out.write(block);
          return;
        }
        const enc = new TextEncoder();
        // Pieces are encoded straight into the block (no joined string, no copy of
        // it); a piece larger than the block (page data) is written on its own.
        const block = new Uint8Array(BLOCK);
        let used = 0;
        for await (const piece of o.codec.decode(o.reader, o.version, o.opts)) {
          if (piece.length * 3 > BLOCK - used) {
            if (used) await out.write(block.subarray(0, used));
            used = 0;
            if (piece.length * 3 > BLOCK) {
              await out.write(enc.encode(piece));
              continue;
            }
          }
          used += enc.encodeInto(piece, block.subarray(used)).written;
        }
        if (used) await out.write(block.subarray(0, used));
      }),
    );
  },
};
