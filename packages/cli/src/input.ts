import { DETECT_BYTES, detectFormat, loadCodec, parseFormat } from "@vmstream/codecs";
import { type CodecOptions, type FamilyCodec, type StreamReader, WireError } from "@vmstream/framing";
import type { Flags } from "./command.js";
import { inputSize, openInput } from "./io.js";
import { progressFor } from "./progress.js";
import { containerOnStdin, openContained } from "./container.js";
import type { Ctx } from "./report.js";

export interface Opened {
  reader: StreamReader;
  codec: FamilyCodec;
  version: string;
  opts: CodecOptions;
  /** Size of the input when it is a regular file (of the stream, inside a container). */
  size: number | undefined;
  /** The qcow2 image or libvirt save image the stream was found in (container.ts). */
  container?: { label: string; text: string; json: unknown };
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

/** The codec and version `--format` names, or the ones the stream's first bytes show; null when they show none. */
export async function codecOf(reader: StreamReader, flags: Flags): Promise<{ codec: FamilyCodec; version: string } | null> {
  if (typeof flags.format === "string") {
    const f = parseFormat(flags.format);
    return { codec: await loadCodec(f.family), version: f.version };
  }
  await reader.fill(DETECT_BYTES);
  return detectFormat(reader.peek(Math.min(reader.buffered, DETECT_BYTES)));
}

/**
 * Open an input, take its format from --format or detect it from the first
 * bytes, and hand everything to `fn`. Inputs above 64 MiB get a progress bar
 * on a terminal's stderr. `ctx.format` is set as soon as the format is known
 * so that error lines name it.
 */
export async function withInput<T>(ctx: Ctx, path: string, flags: Flags, fn: (o: Opened) => Promise<T>): Promise<T> {
  // A container's stream is opened before the bar exists (its size is the stream's): progress goes through `tick`.
  let tick = (_o: number) => {};
  const inner = await openContained(ctx, path, flags, { onProgress: (o) => tick(o) });
  const size = inner ? inner.size : inputSize(path);
  const bar = await progressFor(size, ctx.command ? `vmstream ${ctx.command}` : "vmstream");
  tick = (o) => bar.update(o);
  const reader = inner ? inner.reader : await openInput(path, { onProgress: (o) => bar.update(o) });
  const container = inner ? { label: inner.label, ...inner.summary } : undefined;
  try {
    const found = await codecOf(reader, flags);
    if (!found) {
      const head = reader.peek(Math.min(reader.buffered, DETECT_BYTES));
      if (path === "-" && (await containerOnStdin(head))) {
        throw new WireError("REFUSED", "a qcow2 image or libvirt save image is read from a file (at offsets), not from standard input", 0);
      }
      throw new WireError(
        "UNDETECTED",
        reader.buffered < 8
          ? `too short to hold any stream header (${reader.buffered} bytes); pass --format FAMILY@VERSION to name it`
          : "cannot detect the stream format from its header; pass --format FAMILY@VERSION",
        0,
      );
    }
    const { codec, version } = found;
    ctx.format = `${codec.family}@${version}`;
    return await fn({ reader, codec, version, opts: codecOptions(flags), size, ...(container ? { container } : {}) });
  } finally {
    bar.stop();
    await reader.close().catch(() => {});
    await inner?.close();
  }
}
