import { DETECT_BYTES, detectFormat, loadCodec, parseFormat } from "@vmstream/codecs";
import { type CodecOptions, type FamilyCodec, type StreamReader, WireError } from "@vmstream/framing";
import type { Flags } from "./command.js";
import { inputSize, openInput } from "./io.js";
import { progressFor } from "./progress.js";
import type { Ctx } from "./report.js";

export interface Opened {
  reader: StreamReader;
  codec: FamilyCodec;
  version: string;
  opts: CodecOptions;
  /** Size of the input when it is a regular file. */
  size: number | undefined;
}

/** Codec options from the command line; families read the ones they know. */
export function codecOptions(flags: Flags): CodecOptions {
  const opts: CodecOptions = {};
  if (typeof flags.width === "string") opts.width = flags.width === "32" ? 32 : 64;
  if (typeof flags.guest === "string") opts.guest = flags.guest as "pv" | "hvm";
  if (typeof flags.view === "string") opts.view = flags.view;
  if (typeof flags.schema === "string") {
    const sp = flags.schema;
    opts.schema = () => openInput(sp);
  }
  return opts;
}

/**
 * Open an input, take its format from --format or detect it from the first
 * bytes, and hand everything to `fn`. Inputs above 64 MiB get a progress bar
 * on a terminal's stderr. `ctx.format` is set as soon as the format is known
 * so that error lines name it.
 */
export async function withInput<T>(ctx: Ctx, path: string, flags: Flags, fn: (o: Opened) => Promise<T>): Promise<T> {
  const size = inputSize(path);
  const bar = await progressFor(size, ctx.command ? `vmstream ${ctx.command}` : "vmstream");
  const reader = await openInput(path, { onProgress: (o) => bar.update(o) });
  try {
    let codec: FamilyCodec;
    let version: string;
    if (typeof flags.format === "string") {
      const f = parseFormat(flags.format);
      codec = await loadCodec(f.family);
      version = f.version;
    } else {
      await reader.fill(DETECT_BYTES);
      const found = await detectFormat(reader.peek(Math.min(reader.buffered, DETECT_BYTES)));
      if (!found) {
        throw new WireError(
          "UNDETECTED",
          reader.buffered < 8
            ? `too short to hold any stream header (${reader.buffered} bytes); pass --format FAMILY@VERSION to name it`
            : "cannot detect the stream format from its header; pass --format FAMILY@VERSION",
          0,
        );
      }
      codec = found.codec;
      version = found.version;
    }
    ctx.format = `${codec.family}@${version}`;
    return await fn({ reader, codec, version, opts: codecOptions(flags), size });
  } finally {
    bar.stop();
    await reader.close().catch(() => {});
  }
}
