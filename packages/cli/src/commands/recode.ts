import { NotIdentityError, isWireError } from "@vmstream/framing";
import { statSync } from "node:fs";
import { atomicCopy } from "@vmstream/node";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { checkOutput, openOutput, withOutput } from "../io.js";
import { type Opened, withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** `vmstream recode IN OUT`: decode and re-encode in one streaming pass. */
export const recode: Command = {
  options: { ...formatOptions },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    const ctx: Ctx = { file: inPath!, command: "recode" };
    await guarded(ctx, async () => {
      if (outPath !== "-") checkOutput(outPath!, [inPath!]);
      await withInput(ctx, inPath!, flags, async (o) => {
        if (byCopy(o, inPath!, outPath!)) {
          try {
            return await copyChecked(o, inPath!, outPath!);
          } catch (e) {
            if (!(e instanceof NotIdentityError)) throw e;
            // QEMU's recode would not write the input's bytes (never seen in a valid stream): recode it anew.
            await o.reader.close();
            return withInput(ctx, inPath!, flags, (o2) => recodeTo(o2, inPath!, outPath!));
          }
        }
        await recodeTo(o, inPath!, outPath!);
      });
    });
  },
};

async function recodeTo(o: Opened, inPath: string, outPath: string): Promise<void> {
  const sink = await openOutput(outPath, [inPath]);
  await withOutput(sink, (s) => o.codec.recode(o.reader, o.version, s, o.opts));
}

/**
 * A family whose recode writes the bytes it read (FamilyCodec.recodeCheck),
 * from a regular file to a file: the kernel copies them (a reflink, or
 * copy_file_range in the thread pool) while this thread runs the check
 * recode runs (the Xen families seek over page data as verify does). Read
 * and write no longer both pass through this process, and the copy and the
 * check run side by side. Not for a file with holes (a sparse mapped-ram
 * file): the kernel's copy would fill them, where recode keeps them.
 */
function byCopy(o: Opened, inPath: string, outPath: string): boolean {
  if (o.codec.recodeCheck === undefined || o.container !== undefined || o.size === undefined || inPath === "-" || outPath === "-" || o.reader.offset !== 0) return false;
  const st = statSync(inPath);
  return st.blocks * 512 >= st.size;
}

async function copyChecked(o: Opened, inPath: string, outPath: string): Promise<void> {
  const check = async () => {
    await o.codec.recodeCheck!(o.reader, o.version, o.opts);
    return o.reader.offset;
  };
  try {
    await atomicCopy(inPath, outPath, check);
  } catch (e) {
    // A system call's error (errno code and path): the temporary output could not be made, filled or renamed.
    const { code, path, dest } = e as NodeJS.ErrnoException & { dest?: string };
    if (isWireError(e) || typeof code !== "string" || (path === undefined && dest === undefined)) throw e;
    throw new UsageError((dest ?? path) === inPath ? `cannot read ${inPath}: ${code}` : `cannot write ${outPath}: ${code}`);
  }
}
