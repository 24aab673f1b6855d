/**
 * Typed errors. Every fault names the absolute byte offset where it starts and,
 * when known, a path into the decoded structure (`record[12].body.count`), so a
 * person can jump straight to the bad bytes with a hex viewer.
 */
export type WireErrorCode =
  | "TRUNCATED"
  | "MALFORMED"
  | "BAD_MAGIC"
  | "UNSUPPORTED_VERSION"
  | "UNKNOWN_MANDATORY_RECORD"
  | "TRAILING_BYTES"
  | "NONZERO_PADDING"
  | "RESERVED_BITS"
  | "LIMIT_EXCEEDED"
  | "ORDER"
  | "REFUSED"
  | "UNDETECTED";

export interface WireErrorDetails {
  path?: string;
  expected?: string;
  found?: string;
}

export class WireError extends Error {
  override name = "WireError";
  readonly code: WireErrorCode;
  /** Absolute byte offset in the stream where the fault starts. */
  offset: number;
  /** Where in the decoded structure the fault is, e.g. `record[3].body.count`; "" at top level. */
  path: string;
  readonly expected: string | undefined;
  readonly found: string | undefined;
  /** The bare description, without path, expected or found. */
  readonly reason: string;

  constructor(code: WireErrorCode, reason: string, offset: number, details: WireErrorDetails = {}) {
    super(reason);
    this.code = code;
    this.reason = reason;
    this.offset = offset;
    this.path = details.path ?? "";
    this.expected = details.expected;
    this.found = details.found;
    this.message = this.describe();
  }

  /** Prefix a path segment as the error travels up through enclosing structures. */
  within(segment: string): this {
    if (!segment) return this;
    this.path = this.path ? (this.path.startsWith("[") ? segment + this.path : `${segment}.${this.path}`) : segment;
    this.message = this.describe();
    return this;
  }

  private describe(): string {
    let s = this.path ? `${this.path}: ${this.reason}` : this.reason;
    if (this.expected !== undefined) s += `: expected ${this.expected}`;
    if (this.found !== undefined) s += `${this.expected !== undefined ? "," : ":"} found ${this.found}`;
    return s;
  }
}

export class TruncatedError extends WireError {
  override name = "TruncatedError";
  readonly needed: number;
  readonly available: number;
  constructor(what: string, offset: number, needed: number, available: number, details: WireErrorDetails = {}) {
    super("TRUNCATED", `truncated ${what}: needs ${needed} byte${needed === 1 ? "" : "s"}, ${available} left`, offset, details);
    this.needed = needed;
    this.available = available;
  }
}

export class MalformedError extends WireError {
  override name = "MalformedError";
  constructor(reason: string, offset: number, details: WireErrorDetails = {}) {
    super("MALFORMED", reason, offset, details);
  }
}

/** The operation was refused on purpose (a lossy downgrade, a mismatching width…). */
export class RefusedError extends WireError {
  override name = "RefusedError";
  constructor(reason: string, offset = 0, details: WireErrorDetails = {}) {
    super("REFUSED", reason, offset, details);
  }
}

export const isWireError = (e: unknown): e is WireError => e instanceof WireError;

/** Run `fn`, prefixing `segment` onto the path of any WireError it throws. */
export function within<T>(segment: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WireError) e.within(segment);
    throw e;
  }
}

export function hex(n: number | bigint, width = 0): string {
  return `0x${n.toString(16).padStart(width, "0")}`;
}
