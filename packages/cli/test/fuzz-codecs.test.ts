import { fc, test } from "@fast-check/vitest";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StreamReader } from "@vmstream/framing";
import { applyJsonMutation, formatViolations, fuzzEncode, fuzzInput, fuzzOnce, jsonMutation, propertyParams, splitPoint } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { codecs } from "@vmstream/codecs/all";
import { FAMILIES, type Family, corpus, generated } from "./fuzz-corpus.js";
import { REPO } from "./run.js";

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

/** Families whose encoder has an open fault (packages/testing/regressions/known-failures.json). */
const KNOWN = join(REPO, "packages/testing/regressions/known-failures.json");
const openEncode = new Map<string, string>(
  Object.entries(existsSync(KNOWN) ? (JSON.parse(readFileSync(KNOWN, "utf8")) as Record<string, { op: string; reason: string }>) : {})
    .filter(([, e]) => e.op === "encode")
    .map(([file, e]) => [file.split("/")[0]!, `${file}: ${e.reason}`]),
);

/** Decoded documents of small valid streams: the smallest fixture (not QEMU's, 0.4 MB+) and generated ones. */
async function decodedDocs(family: Family, files: Uint8Array[]): Promise<unknown[]> {
  const codec = codecOf(family)!;
  const docs: unknown[] = [];
  const small = [...files].sort((x, y) => x.length - y.length).filter((b) => b.length < 64 << 10).slice(0, 1);
  for (const b of [...small, ...fc.sample(generated(family), { seed: params(1).seed as number, numRuns: 3 })]) {
    let text = "";
    for await (const piece of codec.decode(StreamReader.of(b), codec.detect(b.subarray(0, 4096))!, {})) text += piece;
    docs.push(JSON.parse(text));
  }
  return docs;
}

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

  // Encoders read untrusted JSON (`vmstream encode`): one hostile edit of a decoded fixture.
  const open = openEncode.get(family);
  if (open) {
    console.warn(`fuzz-codecs: skipping hostile JSON edits of ${family}: open fault ${open} (packages/testing/regressions/known-failures.json)`);
    it.skip(`hostile JSON edits: encode or WireError — open fault ${open}`, () => {});
  } else {
    it("hostile JSON edits: encode or WireError", async () => {
      const docs = await decodedDocs(family, files);
      const edits = fc.sample(
        fc.constantFrom(...docs).chain((d) => fc.tuple(fc.constant(d), jsonMutation(d as never))),
        { seed: params(1).seed as number, numRuns: 100 },
      );
      for (const [doc, edit] of edits) {
        const violations = await fuzzEncode(codec, applyJsonMutation(doc as never, edit));
        expect(violations, `${JSON.stringify(edit.path)} ${edit.op}: ${formatViolations(violations)}`).toEqual([]);
      }
    });
  }

  test.prop([generated(family)], params(Math.ceil(RUNS[family][1] / 2)))("unmutated generated streams pass every operation losslessly", async (bytes) => {
    const { violations, outcomes } = await fuzzOnce(codec, bytes);
    expect(violations, formatViolations(violations)).toEqual([]);
    expect(outcomes.get("verify")).toBe("ok");
  });
});
