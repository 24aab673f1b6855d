import { type FormatId, WireError, readAll } from "@vmstream/framing";
import type { Command } from "../command.js";
import { openInput, openOutput, withOutput } from "../io.js";
import { codecFor, parseFormat } from "../registry.js";
import { type Ctx, guarded } from "../report.js";

/** JSON.parse names the character where it gave up; that is our byte offset for ASCII documents. */
function jsonOffset(message: string): number {
  const m = /position (\d+)/.exec(message);
  return m ? Number(m[1]) : 0;
}

/** `vmstream encode JSON OUT`: the stream a decoded document describes, written atomically. */
export const encode: Command = {
  options: {},
  positionals: [2, 2],
  async run([json, outPath]) {
    const ctx: Ctx = { file: json! };
    await guarded(ctx, async () => {
      const r = await openInput(json!);
      let doc: unknown;
      try {
        const text = new TextDecoder().decode(await readAll(r));
        try {
          doc = JSON.parse(text);
        } catch (e) {
          const msg = (e as Error).message;
          throw new WireError("MALFORMED", `not valid JSON: ${msg}`, jsonOffset(msg));
        }
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
      const codec = codecFor(f.family);
      const sink = await openOutput(outPath!, [json!]);
      await withOutput(sink, (s) => codec.encode(doc, s, {}));
    });
  },
};
