import type { Command } from "../command.js";
import { convert } from "./convert.js";
import { decode } from "./decode.js";
import { encode } from "./encode.js";
import { inspect } from "./inspect.js";
import { recode } from "./recode.js";
import { verify } from "./verify.js";

/** schema-diff and matrix load their modules only when called (they pull in more code). */
const schemaDiff: Command = {
  options: { json: { type: "boolean" } },
  positionals: [2, 2],
  async run(pos, flags) {
    const { schemaDiffCommand } = await import("./schema-diff.js");
    await schemaDiffCommand(pos[0]!, pos[1]!, flags.json === true);
  },
};

const matrix: Command = {
  options: { json: { type: "string" }, markdown: { type: "string" }, html: { type: "string" }, input: { type: "string" } },
  positionals: [0, 0],
  async run(_pos, flags) {
    const { matrixCommand } = await import("./matrix.js");
    await matrixCommand(flags);
  },
};

export const commands: Record<string, Command> = {
  inspect,
  verify,
  decode,
  encode,
  recode,
  convert,
  "schema-diff": schemaDiff,
  matrix,
};

/**
 * The matrix command's flags belong to the compat work: when `./matrix.js`
 * exports `matrixOptions`, they replace the defaults above.
 */
export async function resolveCommand(name: string): Promise<Command | undefined> {
  const cmd = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (name !== "matrix" || !cmd) return cmd;
  const mod = (await import("./matrix.js")) as { matrixOptions?: Command["options"] };
  return mod.matrixOptions ? { ...cmd, options: mod.matrixOptions } : cmd;
}
