import { MalformedError } from "./errors.js";

/**
 * Conventions of every lossless JSON document (`vmstream decode`):
 * - 64-bit integers are decimal strings (JSON numbers lose precision above 2^53);
 * - byte strings are base64 strings;
 * - the top-level object has `format: "family@version"` first.
 * `jsonText` serialises a value that may hold bigint (as a decimal string) and
 * Uint8Array (as base64), with keys in insertion order.
 */
import { toBase64 } from "./base64.js";

export function jsonText(value: unknown, indent = 0): string {
  return JSON.stringify(value, jsonReplacer, indent || undefined);
}

export function jsonReplacer(this: unknown, _key: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return toBase64(v);
  return v;
}

/** A plain object with no prototype, so hostile keys like `__proto__` stay data. */
export function safeObject<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Read a decimal (or 0x-hex) string or safe number from a decoded document as bigint. */
export function toBigInt(v: unknown, what: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === "string" && /^(0x[0-9a-fA-F]+|-?[0-9]+)$/.test(v)) return BigInt(v);
  throw new MalformedError(`${what}: expected an integer or a decimal string`, 0, { found: JSON.stringify(v) });
}

/** Read a string field from a decoded document (objects and numbers are refused, not coerced). */
export function toStr(v: unknown, what: string): string {
  if (typeof v !== "string") throw new MalformedError(`${what}: expected a string`, 0, { found: preview(v) });
  return v;
}

function preview(v: unknown): string {
  const s = JSON.stringify(v) ?? typeof v;
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Read a safe integer field from a decoded document. */
export function toInt(v: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === "string" && /^-?[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new MalformedError(`${what}: expected an integer in [${min}, ${max}]`, 0, { found: JSON.stringify(v) });
  }
  return n;
}
