import { fc, test } from "@fast-check/vitest";
import { formatViolations, fuzzInput, fuzzOnce, propertyParams, splitPoint } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { codecs } from "../src/registry.js";
import { FAMILIES, type Family, corpus, generated } from "./fuzz-corpus.js";

/*
 * In-process fuzzing of every decoder through its FamilyCodec: mutated
 * fixtures (real tools' bytes) and mutated structure-aware streams. The
 * contract (packages/testing/src/fuzz.ts): success, or a WireError with an
 * offset inside the input — nothing else, no hang, no allocation beyond the
 * bytes present, and a stream that verifies recodes to itself.
 *
 * Deterministic: a fixed seed unless FC_SEED is set (fast-check prints the
 * seed and path of any failure); FC_NUM_RUNS scales the runs.
 */
const SEED = 0x5eed_f022;
const params = (runs: number) => {
  const p = propertyParams(runs);
  return { ...p, seed: p.seed ?? SEED };
};
console.info(`fuzz-codecs: seed ${params(1).seed} (set FC_SEED to change, FC_NUM_RUNS to scale)`);

/** Runs per family: fixtures are small except QEMU's (0.4–1.7 MB), which cost more per input. */
const RUNS: Record<Family, [corpus: number, generated: number]> = {
  context: [60, 40],
  libxc: [60, 30],
  libxl: [50, 25],
  xl: [40, 20],
  legacy: [60, 30],
  qemu: [12, 25],
};

const codecOf = (f: Family) => codecs.find((c) => c.family === f);

describe.each(FAMILIES)("%s decoder under mutation", (family) => {
  const codec = codecOf(family);
  const files = corpus(family, 2 << 20);

  it("has a codec and a corpus", () => {
    expect(codec, `no ${family} codec in the CLI registry`).toBeDefined();
    expect(files.length, `no ${family} fixtures found`).toBeGreaterThan(0);
  });
  if (!codec || files.length === 0) return;

  test.prop([fuzzInput(files), splitPoint], params(RUNS[family][0]))("mutated fixtures: WireError inside the input or success", async (bytes, splitAt) => {
    const { violations } = await fuzzOnce(codec, bytes, { splitAt });
    expect(violations, formatViolations(violations)).toEqual([]);
  });

  test.prop([generated(family).chain((b) => fuzzInput([b])), splitPoint], params(RUNS[family][1]))(
    "mutated generated streams: WireError inside the input or success",
    async (bytes, splitAt) => {
      const { violations } = await fuzzOnce(codec, bytes, { splitAt });
      expect(violations, formatViolations(violations)).toEqual([]);
    },
  );

  test.prop([generated(family)], params(Math.ceil(RUNS[family][1] / 2)))("unmutated generated streams pass every operation losslessly", async (bytes) => {
    const { violations, outcomes } = await fuzzOnce(codec, bytes);
    expect(violations, formatViolations(violations)).toEqual([]);
    expect(outcomes.get("verify")).toBe("ok");
  });
});
