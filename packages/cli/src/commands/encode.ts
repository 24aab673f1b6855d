import { type FormatId, WireError, readAll } from "@vmstream/framing";
import type { Command } from "../command.js";
import { openInput, openOutput, withOutput } from "../io.js";
import { parseJson } from "../json-offset.js";
import { codecFor, parseFormat } from "../registry.js";
import { type Ctx, guarded } from "../report.js";

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
        const parsed = parseJson(new TextDecoder().decode(await readAll(r)));
        if (!parsed.ok) throw new WireError("MALFORMED", parsed.message, parsed.offset);
        doc = parsed.value;
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
