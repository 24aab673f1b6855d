import { loadCodec, parseFormat } from "@vmstream/codecs";
import { type FamilyCodec, type FormatId, WireError, parseJsonBytes, readAll } from "@vmstream/framing";
import type { Command } from "../command.js";
import { openInput, openOutput, withOutput } from "../io.js";
import { type Ctx, guarded } from "../report.js";

/** `vmstream encode JSON OUT`: the stream a decoded document describes, written atomically. */
export const encode: Command = {
  options: {},
  positionals: [2, 2],
  async run([json, outPath]) {
    const ctx: Ctx = { file: json! };
    await guarded(ctx, async () => {
      const r = await openInput(json!);
      // Documents open with their format; every family encodes from the text as
      // it streams (a guest's pages decode to more JSON than a string holds). A
      // document that does not open so is parsed whole, for its error line.
      await r.fill(4096);
      const lead = /^\s*\{\s*"format"\s*:\s*"([^"\\]{1,64})"/.exec(new TextDecoder().decode(r.peek(4096)));
      const streaming = lead ? await streamingCodec(lead[1]!) : undefined;
      if (streaming) {
        ctx.format = `${streaming.format.family}@${streaming.format.version}`;
        const sink = await openOutput(outPath!, [json!]);
        try {
          await withOutput(sink, (s) => streaming.codec.encodeStream!(r, s, {}));
        } finally {
          await r.close();
        }
        return;
      }
      let doc: unknown;
      try {
        doc = parseJsonBytes(await readAll(r));
      } finally {
        await r.close();
      }
      const format = (doc as { format?: unknown } | null)?.format;
      if (typeof format !== "string") throw new WireError("MALFORMED", 'the document has no "format" field (family@version)', 0);
      let f: FormatId;
      try {
        f = parseFormat(format);
      } catch (e) {
        throw new WireError("MALFORMED", (e as Error).message, 0);
      }
      ctx.format = `${f.family}@${f.version}`;
      const codec = await loadCodec(f.family);
      const sink = await openOutput(outPath!, [json!]);
      await withOutput(sink, (s) => codec.encode(doc, s, {}));
    });
  },
};

async function streamingCodec(format: string): Promise<{ codec: FamilyCodec; format: FormatId } | undefined> {
  try {
    const f = parseFormat(format);
    const codec = await loadCodec(f.family);
    return codec.encodeStream ? { codec, format: f } : undefined;
  } catch {
    return undefined; // the whole-document path reports the problem
  }
}
