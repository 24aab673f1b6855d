import { type FamilyCodec, MalformedError, type StreamReader, readAll } from "@vmstream/framing";
import { describe, expect, it } from "vitest";
import { fuzzOnce } from "../src/fuzz.js";

/** A codec that copies its input and behaves, with one operation overridden per test. */
function codec(over: Partial<FamilyCodec> = {}): FamilyCodec {
  return {
    family: "toy",
    versions: ["1"],
    detect: (head) => (head[0] === 0x42 ? "1" : null),
    async inspect(r) {
      await readAll(r);
      return { format: "toy@1", json: {}, text: "" };
    },
    async verify(r) {
      const b = await readAll(r);
      if (b[0] !== 0x42) throw new MalformedError("bad magic", 0);
      return { format: "toy@1", items: 1, bytes: b.length, notes: [] };
    },
    async *decode(r) {
      yield JSON.stringify({ n: (await readAll(r)).length });
    },
    async encode() {},
    async recode(r: StreamReader, _v, out) {
      await out.write(await readAll(r));
    },
    ...over,
  };
}
const input = new Uint8Array([0x42, 1, 2, 3, 4, 5, 6, 7]);
const problems = async (c: FamilyCodec, opts = {}) => (await fuzzOnce(c, input, opts)).violations.map((v) => `${v.op}: ${v.problem}`);

describe("fuzz harness catches every breach of the decoder contract", () => {
  it("a well-behaved codec has no violations, and a typed refusal is an allowed outcome", async () => {
    expect(await problems(codec())).toEqual([]);
    const r = await fuzzOnce(codec(), new Uint8Array([1, 2, 3]));
    expect(r.violations).toEqual([]);
    expect((r.outcomes.get("verify") as MalformedError).code).toBe("MALFORMED");
  });

  it("an exception other than WireError", async () => {
    const p = await problems(
      codec({
        async verify() {
          throw new TypeError("x is undefined");
        },
      }),
    );
    expect(p).toEqual(["verify: threw TypeError: x is undefined instead of a WireError"]);
  });

  it("a WireError whose offset is outside the input", async () => {
    const p = await problems(
      codec({
        async verify() {
          throw new MalformedError("far", 4096);
        },
      }),
    );
    expect(p[0]).toMatch(/^verify: WireError offset 4096 outside the 8-byte input/);
  });

  it("a hang", async () => {
    const p = await problems(codec({ verify: () => new Promise(() => {}) }), { timeoutMs: 50 });
    expect(p).toEqual(["verify: no result after 50 ms (hang)"]);
  });

  it("an allocation sized by an untrusted number", async () => {
    let keep: Uint8Array | null = null;
    const p = await problems(
      codec({
        async inspect() {
          keep = new Uint8Array(96 * 2 ** 20);
          return { format: "toy@1", json: { n: keep.length }, text: "" };
        },
      }),
    );
    expect(p.some((x) => /^inspect: ArrayBuffer memory grew by \d+ bytes/.test(x))).toBe(true);
    keep = null;
    expect(keep).toBeNull();
  });

  it("a valid stream that does not recode to itself", async () => {
    const p = await problems(
      codec({
        async recode(r, _v, out) {
          const b = await readAll(r);
          await out.write(b.subarray(1));
        },
      }),
    );
    expect(p).toEqual(["recode: the input verifies but recode wrote 7 bytes that differ from the 8 input bytes"]);
  });
});
