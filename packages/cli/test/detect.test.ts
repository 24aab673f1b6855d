import { fc, test } from "@fast-check/vitest";
import { applyMutation, mutation, propertyParams } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { CODECS, DETECT_BYTES, detectFormat, loadCodec } from "@vmstream/codecs";
import { codecs, detect } from "@vmstream/codecs/all";
import { FAMILIES, corpus, generated } from "./fuzz-corpus.js";

/*
 * The command line detects formats lazily (sniff, then load one codec); the
 * web inspector and library users use the eager `@vmstream/codecs/all`. Both
 * must give the same answer for every head of bytes, or a file would be read
 * as one format by `vmstream` and another by the inspector; and that answer
 * must be the codecs' own: asking every codec's `detect` in order, with no
 * sniff at all, gives it too (a sniff only saves loading a codec).
 */
const id = (d: { codec: { family: string }; version: string } | null) => d && { family: d.codec.family, version: d.version };
const unsniffed = (head: Uint8Array) => {
  for (const codec of codecs) {
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
};
const same = async (head: Uint8Array) => {
  const eager = id(detect(head));
  expect(id(await detectFormat(head))).toEqual(eager);
  expect(id(unsniffed(head))).toEqual(eager);
};
const SEED = 0xde7ec7;
const params = (runs: number) => ({ ...propertyParams(runs), seed: propertyParams(runs).seed ?? SEED });
console.info(`detect: seed ${params(1).seed}`);

describe("lazy detection agrees with the registry", () => {
  it("lists every codec once, in the sniff order", async () => {
    expect(codecs.map((c) => c.family)).toEqual(CODECS.map((d) => d.family));
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
