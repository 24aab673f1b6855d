import { parseFormat } from "@vmstream/codecs";
import { WireError } from "@vmstream/framing";
import { type Command, formatOptions } from "../command.js";
import { UsageError } from "../errors.js";
import { openInput, openOutput, withOutput } from "../io.js";
import { reopenContained } from "../container.js";
import { withInput } from "../input.js";
import { type Ctx, guarded } from "../report.js";

/** `vmstream convert IN OUT --to F`: adjacent versions, and legacy Xen to libxc/libxl. */
export const convert: Command = {
  options: { ...formatOptions, to: { type: "string" }, width: { type: "string" }, guest: { type: "string" }, layout: { type: "string" } },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    if (typeof flags.to !== "string") throw new UsageError("convert needs --to FAMILY[@VERSION]");
    if (flags.width !== undefined && flags.width !== "32" && flags.width !== "64") throw new UsageError("--width is 32 or 64");
    if (flags.guest !== undefined && flags.guest !== "pv" && flags.guest !== "hvm") throw new UsageError("--guest is pv or hvm");
    if (flags.layout !== undefined && flags.layout !== "plain" && flags.layout !== "mapped-ram") throw new UsageError("--layout is plain or mapped-ram");
    const to = parseFormat(flags.to);
    const ctx: Ctx = { file: inPath!, command: "convert" };
    await guarded(ctx, async () => {
      const sink = await openOutput(outPath!, [inPath!]);
      await withOutput(sink, (s) =>
        withInput(ctx, inPath!, flags, async ({ reader, codec, version, opts }) => {
          if (!codec.convert) throw new WireError("REFUSED", `${codec.family} streams cannot be converted`, 0);
          const targets = codec.convertTargets?.(version);
          // --layout rewrites a QEMU stream's RAM layout, within one format version too.
          const relayout = typeof flags.layout === "string" && to.family === codec.family && to.version === version;
          if (targets && !relayout && !targets.some((t) => t.family === to.family && t.version === to.version)) {
            const list = targets.map((t) => `${t.family}@${t.version}`).join(", ") || "none";
            throw new WireError("REFUSED", `cannot convert ${codec.family}@${version} to ${to.family}@${to.version} (targets: ${list})`, 0);
          }
          if (typeof flags.layout === "string") {
            opts["layout"] = flags.layout;
            // A mapped-ram file lists its blocks between their pages: a plain stream needs them first.
            // In a container, the stream inside is read again (a snapshot's VM state, a save image's stream).
            if (inPath !== "-") opts["reopen"] = async () => (await reopenContained(inPath!, flags)) ?? openInput(inPath!);
          }
          await codec.convert(reader, version, to, s, opts);
        }),
      );
    });
  },
};
