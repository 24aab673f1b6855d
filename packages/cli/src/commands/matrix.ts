import { UsageError } from "../errors.js";

/** Filled in by the compat work. */
export async function matrixCommand(_flags: Record<string, unknown>): Promise<void> {
  throw new UsageError("matrix is not available in this build yet");
}
