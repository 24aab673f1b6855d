/** Parsed flag values, as `util.parseArgs` returns them. */
export type Flags = Record<string, string | boolean | undefined>;

export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** One `vmstream` subcommand: its flags, how many positionals it takes, and what it does. */
export interface Command {
  options: OptionSpec;
  positionals: [min: number, max: number];
  run(pos: string[], flags: Flags): Promise<void>;
}

/**
 * `--format` is accepted wherever a stream is read; `--schema` borrows a sibling's QEMU vmdesc;
 * `--snapshot` picks a qcow2 image's snapshot (container.ts).
 */
export const formatOptions: OptionSpec = { format: { type: "string" }, schema: { type: "string" }, snapshot: { type: "string" } };
