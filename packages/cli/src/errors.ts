import { UnknownFormatError } from "@vmstream/codecs";

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Usage errors, including a format name the wire spec or this build does not know. */
export function isUsageError(e: unknown): e is Error {
  return e instanceof UsageError || e instanceof UnknownFormatError;
}
