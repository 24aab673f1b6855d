import { fc, test } from "@fast-check/vitest";
import { applyMutation, mutation, propertyParams } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { DETECT_BYTES, DETECTION } from "../src/formats.js";
import { detectFormat, loadCodec } from "../src/load.js";
import { codecs, detect } from "../src/registry.js";
import { FAMILIES, corpus, generated } from "./fuzz-corpus.js";

/*
 * The command line detects formats lazily (sniff, then load one codec); the
 * web inspector and library users use the eager registry. Both must give the
 * same answer for every head of bytes, or a file would be read as one format
 * by `vmstream` and another by the inspector.
 */
const same = async (head: Uint8Array) => {
  const eager = detect(head);
  const lazy = await detectFormat(head);
  expect(lazy && { family: lazy.codec.family, version: lazy.version }).toEqual(eager && { family: eager.codec.family, version: eager.version });
};
const SEED = 0xde7ec7;
const params = (runs: number) => ({ ...propertyParams(runs), seed: propertyParams(runs).seed ?? SEED });
console.info(`detect: seed ${params(1).seed}`);

describe("lazy detection agrees with the registry", () => {
  it("lists every codec once, in the sniff order", async () => {
    expect(codecs.map((c) => c.family)).toEqual(DETECTION.map((d) => d.family));
    for (const c of codecs) expect(await loadCodec(c.family)).toBe(c);
  });

  it.each(FAMILIES)("on every %s file in the repository", async (family) => {
    const files = corpus(family);
    expect(files.length).toBeGreaterThan(0);
    for (const bytes of files) {
      const head = bytes.subarray(0, DETECT_BYTES);
      await same(head);
      expect(detect(head)?.codec.family).toBe(family);
    }
  });

  test.prop([fc.constantFrom(...FAMILIES).chain((f) => generated(f)), fc.nat(64)], params(200))(
    "on generated streams and their truncations",
    async (bytes, cut) => {
      await same(bytes.subarray(0, DETECT_BYTES));
      await same(bytes.subarray(0, Math.min(cut, bytes.length)));
    },
  );

  const mutatedHead = fc
    .constantFrom(...FAMILIES)
    .chain((f) => generated(f))
    .map((b) => b.subarray(0, 64))
    .chain((h) => mutation(h.length).map((m) => applyMutation(h, m)));
  test.prop([mutatedHead], params(300))("on mutated heads", async (head) => same(head));

  test.prop([fc.uint8Array({ maxLength: 64 })], params(300))("on random bytes", async (head) => same(head));
});
