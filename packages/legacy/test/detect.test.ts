import { describe, expect, test } from "vitest";
import { resolveShape, sniffLegacy } from "../src/index.js";
import { fixture } from "./helpers.js";

const le = (...v: number[]) => Uint8Array.from(v.flatMap((x) => [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff]));
/** Xen's HVM save HEADER descriptor and magic, then zeros. */
const hvmHeader = Uint8Array.from([...le(1, 24, 0x5438_1286, 1), ...new Uint8Array(16)]);

describe("width from octets 4–7", () => {
  test("fixtures", () => {
    expect(sniffLegacy(fixture("legacy_hvm_32.bin"))).toEqual({ width: 32, guest: "hvm", widthSure: true });
    expect(sniffLegacy(fixture("legacy_hvm_64.bin"))).toEqual({ width: 64, guest: "hvm", widthSure: true });
    expect(sniffLegacy(fixture("legacy_pv_32.bin"))).toEqual({ width: 32, guest: "pv", widthSure: true });
    expect(sniffLegacy(fixture("legacy_pv_64.bin"))).toEqual({ width: 64, guest: "pv", widthSure: true });
  });

  test("a 32-bit HVM image with an empty body is told apart by where the HVM context starts", () => {
    // p2m_size, end chunk, ioreq 0xfefff, bufioreq, store, context length 40, context at octet 36.
    const img32 = Uint8Array.from([...le(0x100, 0, 0xfefff, 0, 0xfeffe, 0, 0xfeffc, 0, 40), ...hvmHeader]);
    expect(sniffLegacy(img32)).toEqual({ width: 32, guest: "hvm", widthSure: true });
    // A 64-bit image with an empty body has its context at octet 40.
    const img64 = Uint8Array.from([...le(0x100, 0, 0, 0xfefff, 0, 0xfeffe, 0, 0xfeffc, 0, 40), ...hvmHeader]);
    expect(sniffLegacy(img64)).toEqual({ width: 64, guest: "hvm", widthSure: true });
  });

  test("only when both readings fit does a width flag decide", () => {
    // ioreq_pfn 5: read as 64-bit, octets 8–11 would be a batch of 5 pages.
    const amb = Uint8Array.from([...le(0x100, 0, 5, 0, 0xfeffe, 0, 0xfeffc, 0, 40), ...hvmHeader]);
    expect(sniffLegacy(amb)).toEqual({ width: 32, guest: "hvm", widthSure: false });
    expect(resolveShape(amb, 0, "32", {})).toEqual({ width: 32, guest: "hvm" });
    expect(resolveShape(amb, 0, "32", { width: 64 })).toEqual({ width: 64, guest: "hvm" });
    // Where the bytes are sure, the version named by the caller does not override them.
    expect(resolveShape(fixture("legacy_hvm_64.bin"), 0, "32", {})).toEqual({ width: 64, guest: "hvm" });
  });
});
