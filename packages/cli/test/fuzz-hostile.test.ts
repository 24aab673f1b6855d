import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzOnce } from "@vmstream/testing";
import { type CodecOptions, WireError } from "@vmstream/framing";
import { describe, expect, it } from "vitest";
import { codecs } from "@vmstream/codecs/all";
import { REPO } from "./run.js";

/*
 * Known hostile values, one test each: every operation of the family's codec
 * refuses them with a WireError at (or right around) the hostile field,
 * without a hang and without allocating what the field asks for. fuzzOnce
 * checks the contract for every operation (no other exception, offsets inside
 * the input, ArrayBuffer growth bounded); the tests add that verify refuses,
 * and where. (inspect may summarise what it can, e.g. QEMU sections without a
 * usable vmdesc.)
 */
const codec = (f: string) => codecs.find((c) => c.family === f)!;
const fixture = (p: string) => new Uint8Array(readFileSync(join(REPO, p)));
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
/** Growth allowed: a few MiB of reader buffers and JSON, nothing near the hostile sizes (≥ 2 GiB). */
const CHEAP = 32 * 2 ** 20;

async function refused(family: string, bytes: Uint8Array, near: [from: number, to: number], codecOptions?: CodecOptions) {
  const c = codec(family);
  const { violations, outcomes } = await fuzzOnce(c, bytes, { maxAllocBytes: CHEAP, codecOptions });
  expect(violations.map((v) => `${v.op}: ${v.problem}`)).toEqual([]);
  const v = outcomes.get("verify");
  expect(v, "verify must refuse the stream").toBeInstanceOf(WireError);
  const e = v as WireError;
  expect(e.offset, `${e.code} ${e.message}`).toBeGreaterThanOrEqual(near[0]);
  expect(e.offset, `${e.code} ${e.message}`).toBeLessThanOrEqual(near[1]);
  return e;
}

/** Offset of the first libxc record of `type` after the 40 bytes of headers. */
function libxcRecord(b: Uint8Array, type: number, start = 40): number {
  for (let p = start; p + 8 <= b.length; ) {
    const t = dv(b).getUint32(p, true);
    const len = dv(b).getUint32(p + 4, true);
    if (t === type) return p;
    p += 8 + len + ((8 - (len % 8)) % 8);
  }
  throw new Error(`no record of type ${type}`);
}

describe("hostile values are refused quickly and cheaply", () => {
  it("legacy p2m_size 0xffffffff00010000 (64-bit toolstack)", async () => {
    const b = fixture("fixtures/xen/legacy_hvm_64.bin");
    dv(b).setBigUint64(0, 0xffff_ffff_0001_0000n, true);
    // Octets 4–7 now read as a 32-bit PV image's extended-info signature: as such it fails further on…
    await refused("legacy", b, [0, b.length]);
    // …and insisting on a 64-bit toolstack (--width 64) is refused at the header, never sized by p2m_size.
    const e = await refused("legacy", b, [0, 8], { width: 64 });
    expect(["REFUSED", "LIMIT_EXCEEDED"]).toContain(e.code);
  });

  it("libxc record body_length 0xfffffff8", async () => {
    const b = fixture("fixtures/xen/libxc_hvm_v3.bin");
    dv(b).setUint32(44, 0xffff_fff8, true);
    await refused("libxc", b, [40, 48]);
  });

  it("libxl record body_length 0xfffffff8 (EMULATOR_CONTEXT after the libxc image)", async () => {
    const b = fixture("fixtures/xen/libxl_hvm_noxs.bin");
    // the last record before END is EMULATOR_CONTEXT (type 3)
    let p = b.length - 8;
    for (let q = b.length - 16; q > 16; q -= 8) {
      if (dv(b).getUint32(q, true) === 3 && q + 8 + dv(b).getUint32(q + 4, true) <= b.length - 8) {
        p = q;
        break;
      }
    }
    dv(b).setUint32(p + 4, 0xffff_fff8, true);
    // at the length field, or where the body runs out after its 8-byte emulator header
    await refused("libxl", b, [p, p + 16]);
  });

  it("context@1 record length 0xfffffff8", async () => {
    const b = fixture("fixtures/context/ctx1-small.bin");
    dv(b).setUint32(28, 0xffff_fff8, true);
    await refused("context", b, [24, 32]);
  });

  it("PAGE_DATA count 0x7fffffff", async () => {
    const b = fixture("fixtures/xen/libxc_hvm_v3.bin");
    const p = libxcRecord(b, 1);
    dv(b).setUint32(p + 8, 0x7fff_ffff, true);
    await refused("libxc", b, [p, p + 16]);
  });

  describe("QEMU vmdesc", () => {
    // The vmdesc trailer sits after the EOF byte, where QEMU's loader never looks: plain
    // verify reports its damage as a warning, `--strict` (strict: true) refuses it.
    const STRICT = { strict: true };
    const base = () => fixture("fixtures/qemu/pc-7.2-stopped.mig");
    /** The trailer is `0x06, be32 length, JSON` at the very end of the file. */
    function trailer(b: Uint8Array): number {
      const j = Buffer.from(b).lastIndexOf('{"page_size"');
      expect(dv(b).getUint32(j - 4)).toBe(b.length - j);
      expect(b[j - 5]).toBe(0x06);
      return j - 5;
    }
    function withVmdesc(b: Uint8Array, edit: (desc: { devices: { fields: unknown[] }[] }) => string | void): { bytes: Uint8Array; at: number } {
      const at = trailer(b);
      const desc = JSON.parse(Buffer.from(b.subarray(at + 5)).toString("latin1"));
      const text = edit(desc) ?? JSON.stringify(desc);
      const json = Buffer.from(text, "latin1");
      const out = new Uint8Array(at + 5 + json.length);
      out.set(b.subarray(0, at + 1));
      dv(out).setUint32(at + 1, json.length);
      out.set(json, at + 5);
      return { bytes: out, at };
    }

    it("a vmdesc length beyond the file", async () => {
      for (const len of [0x7fff_ffff, 0xffff_fff0]) {
        const b = base();
        const at = trailer(b);
        dv(b).setUint32(at + 1, len);
        await refused("qemu", b, [0, b.length], STRICT);
      }
    });

    it("a VARRAY count (array_len) of 2^31", async () => {
      const { bytes } = withVmdesc(base(), (d) => {
        const visit = (x: unknown): boolean => {
          if (Array.isArray(x)) return x.some(visit);
          if (x && typeof x === "object") {
            const o = x as Record<string, unknown>;
            if (o.name === "env.regs" && o.array_len === 16) {
              o.array_len = 2 ** 31;
              return true;
            }
            return Object.values(o).some(visit);
          }
          return false;
        };
        expect(visit(d)).toBe(true);
      });
      await refused("qemu", bytes, [0, bytes.length], STRICT);
    });

    it("structs nested 20000 deep hit the depth limit, not the stack", async () => {
      const { bytes } = withVmdesc(base(), (d) => {
        // Built as text: JSON.stringify itself would overflow on this depth.
        const depth = 20_000;
        const open = '{"name": "s", "type": "struct", "size": 1, "struct": {"vmsd_name": "n", "version": 1, "fields": [';
        const nested = `${open.repeat(depth)}{"name": "x", "type": "uint8", "size": 1}${"]}}".repeat(depth)}`;
        d.devices[0]!.fields = ["@@NESTED@@"];
        return JSON.stringify(d).replace('"@@NESTED@@"', nested);
      });
      const e = await refused("qemu", bytes, [0, bytes.length], STRICT);
      expect(e.code).toBe("LIMIT_EXCEEDED");
    });
  });
});
