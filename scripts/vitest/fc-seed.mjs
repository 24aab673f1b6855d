/**
 * Every vitest project loads this first: fast-check properties that name no
 * seed of their own run from one seed, so a CI run is the same run each time
 * and a failure replays. FC_SEED picks another seed (fast-check prints the
 * seed and path of any failure, so it can be replayed with FC_SEED and the
 * path it prints).
 */
import fc from "fast-check";

export const DEFAULT_SEED = 20261207;
const seed = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : DEFAULT_SEED;
if (!Number.isSafeInteger(seed)) throw new Error(`FC_SEED must be an integer, not ${process.env.FC_SEED}`);
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
