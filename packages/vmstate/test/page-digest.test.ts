/**
 * diff compares RAM by a 64-bit digest per page (PageDigests), read in place
 * from the stream's buffer at whatever alignment the page has. A page that
 * differs anywhere must be reported, and the same content must digest the
 * same at any byte offset of any buffer.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { propertyParams } from "@vmstream/testing";
import { PageDigests, diffRam } from "../src/index.js";

const params = propertyParams(200);
const PS = 4096;
const block = { name: "pc.ram", length: 4 * PS };

/** Digests of `pages` (page i at block offset i × PS), each page given as a view at byte `shift` of its own buffer. */
async function side(pages: Uint8Array[], shift: number): Promise<PageDigests> {
  const d = new PageDigests();
  await d.block(block, null, PS);
  pages.forEach((p, i) => {
    const buf = new Uint8Array(PS + 8);
    buf.set(p, shift);
    d.write(block.name, i * PS, buf.subarray(shift, shift + PS));
  });
  return d;
}

const page = fc.uint8Array({ minLength: PS, maxLength: PS });

describe("page digests", () => {
  test.prop([page, fc.integer({ min: 0, max: PS - 1 }), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })], params)(
    "one byte changed anywhere: that page differs, the others do not",
    async (p, at, flip, sa, sb) => {
      const q = p.slice();
      q[at]! ^= flip;
      const a = await side([p, p, p], sa);
      const b = await side([p, q, p], sb);
      const [r] = diffRam(a, b);
      expect(r).toMatchObject({ differ: 1, onlyA: 0, onlyB: 0, ranges: [[PS, 2 * PS]] });
    },
  );

  test.prop([page, fc.uniqueArray(fc.integer({ min: 0, max: PS - 1 }), { minLength: 2, maxLength: 6 }), fc.integer({ min: 0, max: 3 })], params)(
    "several bytes changed (changes that could cancel in a weaker sum): still differs",
    async (p, ats, shift) => {
      const q = p.slice();
      // The same bit flipped in several words: a word-wise XOR or sum would cancel pairs of these.
      for (const at of ats) q[at]! ^= 0x80;
      const [r] = diffRam(await side([p], 0), await side([q], shift));
      expect(r?.differ).toBe(1);
    },
  );

  test("bit 31 of one word and bits 31 and 16 of the same lane's next word: differs", async () => {
    // A multiply-and-xorshift lane passes a top-bit difference through
    // unchanged whatever the data (bit 31 after the multiply, bits 31 and 16
    // after the shift), so this pattern cancelled in the next word and diff
    // called the pages equal. Words i and i + 4 share a lane.
    const p = new Uint8Array(PS).map((_, i) => (i * 131 + 7) & 255);
    const q = p.slice();
    q[3]! ^= 0x80;
    q[16 + 3]! ^= 0x80;
    q[16 + 2]! ^= 0x01;
    const [r] = diffRam(await side([p], 0), await side([q], 0));
    expect(r?.differ).toBe(1);
  });

  test.prop([page, fc.integer({ min: 0, max: PS / 4 - 5 }), fc.integer({ min: 1, max: 4 }), fc.integer(), fc.integer()], params)(
    "two words of one lane changed by any masks (the top bits included): differs",
    async (p, word, lanes, m1, m2) => {
      const q = p.slice();
      const dv = new DataView(q.buffer);
      const j = Math.min(word + 4 * lanes, PS / 4 - 1);
      dv.setInt32(word * 4, dv.getInt32(word * 4, true) ^ (m1 | 0x80000000), true);
      dv.setInt32(j * 4, dv.getInt32(j * 4, true) ^ (m2 & 0x80018000), true);
      const [r] = diffRam(await side([p], 0), await side([q], 0));
      expect(r?.differ).toBe(1);
    },
  );

  test.prop([fc.array(page, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })], params)(
    "the same pages at any alignment: equal",
    async (pages, sa, sb) => {
      expect(diffRam(await side(pages, sa), await side(pages, sb))).toEqual([]);
    },
  );

  test.prop([fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 100 })], params)(
    "a stretch of zero pages (one fill) marks exactly the pages that writing each zero page marks",
    async (first, n) => {
      const count = Math.min(n, 100 - first);
      const big = { name: "pc.ram", length: 100 * PS };
      const a = new PageDigests();
      const b = new PageDigests();
      await a.block(big, null, PS);
      await b.block(big, null, PS);
      a.zero(big.name, first * PS, count);
      for (let i = first; i < first + count; i++) b.write(big.name, i * PS, new Uint8Array(PS));
      expect(diffRam(a, b)).toEqual([]);
      expect(a.blocks.get(big.name)!.carried).toEqual(b.blocks.get(big.name)!.carried);
    },
  );

  test("a page of zeros written as data digests as the zero pages a stream marks (PageDigests.zero)", async () => {
    const a = await side([new Uint8Array(PS)], 1);
    const b = new PageDigests();
    await b.block(block, null, PS);
    b.zero(block.name, 0, 1);
    expect(diffRam(a, b)).toEqual([]);
  });
});
