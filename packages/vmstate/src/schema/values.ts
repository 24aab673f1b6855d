/** Small helpers on state values shared by the compiler (plan.ts) and the interpreter loop (run.ts). */
import type { State } from "./types.js";

/** A value as an error message names it. */
export function describe(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (Array.isArray(v)) return `array of ${v.length}`;
  return v === undefined ? "nothing" : JSON.stringify(v) ?? String(v);
}

/**
 * The object a nested description loads into: a copy of the destination's
 * current value when that is an object (QEMU loads into the existing struct),
 * else a fresh one.
 */
export function seedState(cur: unknown): State {
  return cur !== null && typeof cur === "object" && !Array.isArray(cur) && !(cur instanceof Uint8Array) ? { ...(cur as State) } : {};
}
