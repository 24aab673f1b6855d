import { WireError, type WireErrorDetails } from "./errors.js";

/** A declared size or count is beyond what the format or a decoder accepts. */
export class LimitError extends WireError {
  override name = "LimitError";
  constructor(reason: string, offset: number, details: WireErrorDetails = {}) {
    super("LIMIT_EXCEEDED", reason, offset, details);
  }
}

/**
 * Check a count read from the stream against the bytes that can still back it.
 * `perItem` is the minimum encoded size of one item; a count whose items cannot
 * all fit in `available` bytes is refused before anything is allocated for it.
 */
export function checkCount(count: number, perItem: number, available: number, what: string, offset: number): void {
  if (count < 0 || !Number.isSafeInteger(count) || (perItem > 0 && count > Math.floor(available / perItem))) {
    throw new LimitError(
      `${what} ${count} needs at least ${perItem * count} bytes, only ${available} present`,
      offset,
    );
  }
}

/** Nesting guard for recursive decoders (deeply nested structs). */
export const MAX_DEPTH = 64;
