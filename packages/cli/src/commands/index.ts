import type { Command } from "../command.js";

/** schema-diff and matrix load their modules only when called (they pull in more code). */
const schemaDiff: Command = {
  options: { json: { type: "boolean" }, "qemu-compatible": { type: "boolean" } },
  positionals: [2, 2],
  async run(pos, flags) {
    const { schemaDiffCommand } = await import("./schema-diff.js");
    await schemaDiffCommand(pos[0]!, pos[1]!, { json: flags.json === true, qemuCompatible: flags["qemu-compatible"] === true });
  },
};

const preflight: Command = {
  options: {
    against: { type: "string" },
    /** qcow2 images: the snapshot of STREAM and of DEST (container.ts). */
    snapshot: { type: "string" },
    "against-snapshot": { type: "string" },
    dump: { type: "string" },
    qemu: { type: "string" },
    uuid: { type: "string" },
    capability: { type: "string" },
    postcopy: { type: "boolean" },
    json: { type: "boolean" },
  },
  positionals: [1, 1000],
  async run(pos, flags) {
    const { preflightCommand } = await import("./preflight.js");
    await preflightCommand(pos, flags);
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

/** Each run loads only its own command's module (start-up is most of a small file's run time). */
const loaders: Record<string, () => Promise<Command>> = {
  inspect: async () => (await import("./inspect.js")).inspect,
  verify: async () => (await import("./verify.js")).verify,
  decode: async () => (await import("./decode.js")).decode,
  encode: async () => (await import("./encode.js")).encode,
  recode: async () => (await import("./recode.js")).recode,
  convert: async () => (await import("./convert.js")).convert,
  extract: async () => (await import("./containers.js")).extract,
  "wrap-save": async () => (await import("./containers.js")).wrapSave,
  memory: async () => (await import("./memory.js")).memory,
  diff: async () => (await import("./diff.js")).diff,
  "schema-diff": async () => schemaDiff,
  preflight: async () => preflight,
  matrix: async () => matrix,
};

/** The command called `name`, its module loaded; undefined for an unknown name. */
export async function resolveCommand(name: string): Promise<Command | undefined> {
  const load = Object.hasOwn(loaders, name) ? loaders[name] : undefined;
  return load?.();
}
