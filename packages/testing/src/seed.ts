import type { Parameters } from "fast-check";

/**
 * fast-check parameters for CI: a seed from FC_SEED (printed by fast-check on
 * failure, so any run can be replayed) and a run count from FC_NUM_RUNS.
 */
export function propertyParams(defaultRuns = 100): Parameters<unknown> {
  const env = typeof process === "undefined" ? {} : process.env;
  const seed = env.FC_SEED !== undefined ? Number(env.FC_SEED) : undefined;
  const numRuns = env.FC_NUM_RUNS !== undefined ? Number(env.FC_NUM_RUNS) : defaultRuns;
  return seed === undefined ? { numRuns } : { seed, numRuns };
}

/**
 * Interop tests against real tools (QEMU, Xen's Python tools, Chromium) skip
 * with a printed reason when the tool is missing on a developer machine; CI sets
 * VMSTREAM_INTEROP=required so a missing tool fails instead of hiding.
 */
export function interopRequired(): boolean {
  return typeof process !== "undefined" && process.env.VMSTREAM_INTEROP === "required";
}
