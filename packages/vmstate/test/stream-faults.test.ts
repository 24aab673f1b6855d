import { describe, expect, test } from "vitest";
import { StreamReader, WireError } from "@vmstream/framing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { convert, fixture } from "./qemu-helpers.js";

const real = fixture("pc-7.2-stopped.mig")!;
const summary = async (b: Uint8Array): Promise<QemuSummary> => (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;

/** verify's fault; `strict` also fails on damage after the VM state (the vmdesc trailer QEMU never loads). */
async function fault(b: Uint8Array, version = "3", strict = false): Promise<WireError> {
  try {
    await qemuCodec.verify(StreamReader.of(b), version, strict ? { strict: true } : {});
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
  throw new Error("verify accepted a damaged stream");
}

describe("faults are reported at the offset where they start", async () => {
  const s = await summary(real);
  const section = (idstr: string) => s.sections.find((x) => x.idstr === idstr)!;

  test("bad magic at 0, unsupported version at 4", async () => {
    const a = real.slice();
    a[0] = 0x51 ^ 1;
    expect(await fault(a)).toMatchObject({ code: "BAD_MAGIC", offset: 0 });
    const b = real.slice();
    b[7] = 2;
    expect(await fault(b)).toMatchObject({ code: "UNSUPPORTED_VERSION", offset: 4 });
  });

  test("a wrong footer id (QEMU: 'Mismatched section id in footer for globalstate')", async () => {
    const g = section("globalstate");
    const b = real.slice();
    const footerAt = g.offset + g.size - 5;
    expect(b[footerAt]).toBe(0x7e);
    b[footerAt + 4]! ^= 1;
    const e = await fault(b);
    expect(e.offset).toBe(footerAt + 1);
    expect(e.message).toMatch(/mismatched section id in footer for globalstate/);
  });

  test("a renamed subsection (fw_cfg/dma -> fw_cfg/dmb) is caught at its header", async () => {
    const i = Buffer.from(real).indexOf("fw_cfg/dma");
    const b = real.slice();
    b[i + 9] = "b".charCodeAt(0);
    const e = await fault(b);
    expect(e.offset).toBe(i - 1);
    expect(e.message).toMatch(/subsection name differs/);
  });

  test("an unknown section type", async () => {
    const t = section("timer");
    const b = real.slice();
    b[t.offset] = 0x0b;
    expect(await fault(b)).toMatchObject({ offset: t.offset, code: "MALFORMED" });
  });

  test("an unknown RAM flag combination names the record", async () => {
    const r = section("ram");
    // The START body begins with the MEM_SIZE word; make it MEM_SIZE|PAGE.
    const at = r.offset + 1 + 4 + 1 + 3 + 8;
    const b = real.slice();
    b[at + 7] = 0x0c;
    const e = await fault(b);
    expect(e.offset).toBe(at + 7);
    expect(e.message).toMatch(/unknown combination of RAM flags 0xc/);
  });

  test("truncation inside a page and inside the vmdesc", async () => {
    const e1 = await fault(real.subarray(0, 5000));
    expect(e1.code).toBe("TRUNCATED");
    expect(e1.offset).toBeLessThanOrEqual(5000);
    // A cut vmdesc: the VM state before it loads (QEMU never reads the trailer), so a warning, and a fault with strict.
    const cut = real.subarray(0, real.length - 10);
    const rep = await qemuCodec.verify(StreamReader.of(cut), "3", {});
    expect(rep.warnings).toEqual([expect.objectContaining({ offset: s.vmdesc!.offset + 1, message: expect.stringMatching(/vmdesc length/) })]);
    const e2 = await fault(cut, "3", true);
    expect(e2.offset).toBeLessThanOrEqual(real.length - 10);
  });

  test("bytes after the vmdesc", async () => {
    const b = new Uint8Array(real.length + 1);
    b.set(real);
    expect(await fault(b, "3", true)).toMatchObject({ code: "TRAILING_BYTES", offset: real.length });
    const rep = await qemuCodec.verify(StreamReader.of(b), "3", {});
    expect(rep.warnings).toEqual([expect.objectContaining({ code: "TRAILING_BYTES", offset: real.length })]);
    // The vmdesc before the extra byte is still used: every device body is checked.
    expect(rep.notes.join(" ")).not.toMatch(/scanning/);
  });

  test("inspect reports the first fault instead of throwing", async () => {
    const b = real.slice(0, 100_000);
    const s2 = await summary(b);
    expect(s2.fault?.code).toBe("TRUNCATED");
    expect(s2.sections.length).toBeGreaterThan(0);
  });

  test("format 4: a missing SUBSECTIONS_END is an error at that byte", async () => {
    const v4 = await convert(real, "3", "4");
    const s4 = (await qemuCodec.inspect(StreamReader.of(v4), "4", {})).json as QemuSummary;
    const t = s4.sections.find((x) => x.idstr === "timer")!;
    // timer has no subsections: its body ends with 0x09 just before the footer.
    const end = t.offset + t.size - 5 - 1;
    expect(v4[end]).toBe(0x09);
    const b = v4.slice();
    b[end] = 0x07;
    const e = await fault(b, "4");
    expect(e.offset).toBe(end);
    expect(e.expected).toBe("0x05 or 0x09");
  });
});

describe("hostile vmdesc trailers are refused (strict) or reported (default), never a hang or a stack overflow", async () => {
  const s = await summary(real);
  const withVmdesc = (text: string): Uint8Array => {
    const j = new TextEncoder().encode(text);
    const out = new Uint8Array(s.vmdesc!.offset + 5 + j.length);
    out.set(real.subarray(0, s.vmdesc!.offset));
    out[s.vmdesc!.offset] = 6;
    new DataView(out.buffer).setUint32(s.vmdesc!.offset + 1, j.length);
    out.set(j, s.vmdesc!.offset + 5);
    return out;
  };
  const jsonAt = s.vmdesc!.offset + 5;

  test("an array of 2^40 empty elements", async () => {
    const b = withVmdesc(`{"page_size": 4096, "devices": [{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 2, "fields": [{"name": "x", "array_len": 1099511627776, "type": "buffer", "size": 0}]}]}`);
    expect(await fault(b, "3", true)).toMatchObject({ code: "LIMIT_EXCEEDED", offset: jsonAt });
    const rep = await qemuCodec.verify(StreamReader.of(b), "3", {});
    expect(rep.warnings).toEqual([expect.objectContaining({ code: "LIMIT_EXCEEDED", offset: jsonAt })]);
  });

  test("nested arrays whose product is huge", async () => {
    const inner = `{"vmsd_name": "a", "version": 1, "fields": [{"name": "y", "array_len": 100000, "type": "uint8", "size": 0}]}`;
    const b = withVmdesc(`{"page_size": 4096, "devices": [{"name": "timer", "instance_id": 0, "vmsd_name": "timer", "version": 2, "fields": [{"name": "x", "array_len": 100000, "type": "struct", "struct": ${inner}, "size": 0}]}]}`);
    expect(await fault(b, "3", true)).toMatchObject({ code: "LIMIT_EXCEEDED" });
    expect((await qemuCodec.verify(StreamReader.of(b), "3", {})).warnings?.[0]?.code).toBe("LIMIT_EXCEEDED");
  });

  test("100000 levels of nesting", async () => {
    const b = withVmdesc(`{"page_size": 4096, "devices": ${"[".repeat(100000)}${"]".repeat(100000)}}`);
    const e = await fault(b, "3", true);
    expect(["MALFORMED", "LIMIT_EXCEEDED"]).toContain(e.code);
    expect(e.offset).toBe(jsonAt);
  });

  test("a vmdesc that does not describe the bytes", async () => {
    const text = new TextDecoder().decode(real.subarray(jsonAt)).replace(`"cpu_ticks_offset", "type": "int64", "size": 8`, `"cpu_ticks_offset", "type": "int64", "size": 4`);
    const e = await fault(withVmdesc(text));
    expect(e.code).toBe("MALFORMED");
    expect(e.offset).toBeGreaterThan(s.sections.find((x) => x.idstr === "timer")!.offset);
  });
});

describe("PACKAGED commands (postcopy): the nested stream is walked", () => {
  // LISTEN, a FULL section "x" with a 2-byte body and its footer, RUN, EOF.
  const nested = [0x08, 0, 4, 0, 0, 0x04, 0, 0, 0, 5, 1, 0x78, 0, 0, 0, 0, 0, 0, 0, 1, 0x61, 0x62, 0x7e, 0, 0, 0, 5, 0x08, 0, 5, 0, 0, 0x00];
  const build = (inner: number[]): Uint8Array =>
    new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, 3, 0x08, 0, 7, 0, 4, 0, 0, 0, inner.length, ...inner, 0x00]);

  test("a well-formed package verifies, round-trips and is listed", async () => {
    const b = build(nested);
    await qemuCodec.verify(StreamReader.of(b), "3", {});
    const s = await summary(b);
    expect(s.commands).toEqual([{ offset: 8, cmd: 7, name: "PACKAGED", length: 4, packaged: nested.length }]);
  });

  test("a fault inside the package is reported at its absolute offset", async () => {
    const bad = nested.slice();
    bad[28] = 0x63; // POSTCOPY_RUN's command number -> 99
    const e = await fault(build(bad));
    expect(e.offset).toBe(17 + 28);
    expect(e.path).toBe("package");
  });
});

describe("detect", () => {
  test("QEVM with version 3 or 4 only", () => {
    const h = (v: number) => new Uint8Array([0x51, 0x45, 0x56, 0x4d, 0, 0, 0, v]);
    expect(qemuCodec.detect(h(3))).toBe("3");
    expect(qemuCodec.detect(h(4))).toBe("4");
    expect(qemuCodec.detect(h(2))).toBeNull();
    expect(qemuCodec.detect(h(5))).toBeNull();
    expect(qemuCodec.detect(h(3).subarray(0, 7))).toBeNull();
    expect(qemuCodec.detect(new TextEncoder().encode("Xen saved domain, xl format\n"))).toBeNull();
  });
});
