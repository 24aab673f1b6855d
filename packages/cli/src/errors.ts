/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Usage errors, including a format name the wire spec or this build does not
 * know (`UnknownFormatError` of @vmstream/codecs, told by its name so that
 * `--version` and `--help` do not load the registry).
 */
export function isUsageError(e: unknown): e is Error {
  return e instanceof UsageError || (e instanceof Error && e.name === "UnknownFormatError");
}
