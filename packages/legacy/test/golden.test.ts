import { describe, expect, test } from "vitest";
import { MemorySink, StreamReader, WireError } from "@vmstream/framing";
import { legacyCodec } from "../src/index.js";
import { LIBXC, LIBXL, convertBytes, fixture, pipeReader, textOf } from "./helpers.js";

// Which legacy input + convert-legacy-stream flags produced each conv_* file
// (shared/tools/xenpeer/build_all.py and build_vectors.py; re-run by hand with Debian's xen-utils-4.17).
const cases: { input: string; width: 32 | 64; guest: "pv" | "hvm"; libxc?: string; libxl?: string }[] = [
  { input: "legacy_hvm_32.bin", width: 32, guest: "hvm", libxc: "conv_hvm_32_libxc.bin", libxl: "conv_hvm_32_libxl.bin" },
  { input: "legacy_hvm_64.bin", width: 64, guest: "hvm", libxc: "conv_hvm_64_libxc.bin", libxl: "conv_hvm_64_libxl.bin" },
  { input: "legacy_pv_32.bin", width: 32, guest: "pv", libxc: "conv_pv_32_libxc.bin", libxl: "conv_pv_32_libxl.bin" },
  { input: "legacy_pv_64.bin", width: 64, guest: "pv", libxc: "conv_pv_64_libxc.bin", libxl: "conv_pv_64_libxl.bin" },
  { input: "legacy_pv_32tool_64guest.bin", width: 32, guest: "pv", libxl: "conv_pv_32t64g.bin" },
  { input: "legacy_tiny_hvm_32.bin", width: 32, guest: "hvm", libxc: "conv_tiny_32.libxc.bin", libxl: "conv_tiny_32.libxl.bin" },
  { input: "legacy_tiny_hvm_64.bin", width: 64, guest: "hvm", libxc: "conv_tiny_64.libxc.bin", libxl: "conv_tiny_64.libxl.bin" },
];

describe("convert matches convert-legacy-stream byte for byte", () => {
  for (const c of cases) {
    for (const [to, golden] of [[LIBXC, c.libxc], [LIBXL, c.libxl]] as const) {
      if (!golden) continue;
      test(`${c.input} -w ${c.width} -g ${c.guest} -f ${to.family}`, async () => {
        const input = fixture(c.input);
        expect(legacyCodec.detect(input.subarray(0, 4096))).toBe(String(c.width));
        // Flags agreeing with the bytes, no flags at all, and a pipe-like reader all give the tool's bytes.
        expect(await convertBytes(input, to, { width: c.width, guest: c.guest })).toEqual(fixture(golden));
        expect(await convertBytes(input, to)).toEqual(fixture(golden));
        expect(await convertBytes(input, to, {}, undefined, pipeReader(input))).toEqual(fixture(golden));
      });
    }
  }

  test("libxc@2 and libxc@3 targets both give the tool's output (it writes image version 3)", async () => {
    const input = fixture("legacy_hvm_64.bin");
    const golden = fixture("conv_hvm_64_libxc.bin");
    expect(await convertBytes(input, { family: "libxc", version: "2" })).toEqual(golden);
    expect(new DataView(golden.buffer, golden.byteOffset).getUint32(12, false)).toBe(3);
  });
});

describe("width and guest flags that contradict the bytes are refused", () => {
  const refusals: [string, { width?: 32 | 64; guest?: "pv" | "hvm" }, number][] = [
    // conv_wrongw.bin is what the tool emits (exit 0) for legacy_hvm_64 with -w 32: garbage.
    ["legacy_hvm_64.bin", { width: 32 }, 4],
    ["legacy_hvm_32.bin", { width: 64 }, 4],
    ["legacy_pv_32.bin", { width: 64 }, 4],
    ["legacy_pv_64.bin", { width: 32 }, 4],
    ["legacy_pv_64.bin", { guest: "hvm" }, 8],
    ["legacy_hvm_64.bin", { guest: "pv" }, 8],
    ["legacy_hvm_32.bin", { guest: "pv" }, 4],
  ];
  for (const [name, opts, offset] of refusals) {
    test(`${name} with ${JSON.stringify(opts)}`, async () => {
      const sink = new MemorySink();
      const err = await legacyCodec.convert!(StreamReader.of(fixture(name)), "64", LIBXC, sink, opts).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WireError);
      expect((err as WireError).code).toBe("REFUSED");
      expect((err as WireError).offset).toBe(offset);
      expect(sink.length).toBe(0);
    });
  }
  test("the tool's garbage for a wrong width is not what we write", async () => {
    const ours = await convertBytes(fixture("legacy_hvm_64.bin"), LIBXC);
    expect(ours).not.toEqual(fixture("conv_wrongw.bin"));
    expect(ours).toEqual(fixture("conv_hvm_64_libxc.bin"));
  });
});

describe("xl files without STREAMv2", () => {
  const xl = fixture("legacy_xl_hvm_64.bin");
  test("detected as legacy@64", () => {
    expect(legacyCodec.detect(xl.subarray(0, 4096))).toBe("64");
  });
  test("convert to xl@1: xl header with STREAMv2 set, then the libxl conversion of the payload", async () => {
    const out = await convertBytes(xl, { family: "xl", version: "1" });
    const optLen = new DataView(xl.buffer, xl.byteOffset).getUint32(44, true);
    const headerLen = 48 + optLen;
    const expectedHeader = xl.slice(0, headerLen);
    expectedHeader[36] = expectedHeader[36]! | 2;
    expect(out.subarray(0, headerLen)).toEqual(expectedHeader);
    // The payload is legacy_hvm_64.bin; its libxl conversion is the tool's.
    expect(xl.subarray(headerLen)).toEqual(fixture("legacy_hvm_64.bin"));
    expect(out.subarray(headerLen)).toEqual(fixture("conv_hvm_64_libxl.bin"));
  });
  test("convert to libxl@2 is refused: the xl header and config would be lost", async () => {
    await expect(convertBytes(xl, LIBXL)).rejects.toMatchObject({ code: "REFUSED" });
  });
  test("bare legacy to xl@1 gets a minimal xl header", async () => {
    const out = await convertBytes(fixture("legacy_tiny_hvm_32.bin"), { family: "xl", version: "1" });
    expect(Buffer.from(out.subarray(0, 32)).toString("latin1")).toBe("Xen saved domain, xl format\n \0 \r");
    expect(Array.from(out.subarray(32, 48))).toEqual([4, 3, 2, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(out.subarray(48)).toEqual(fixture("conv_tiny_32.libxl.bin"));
  });
});

describe("PV images without a vcpu_info chunk", () => {
  test("vcpu 0 alone is online, as legacy restore assumed (the tool would read no vcpu)", async () => {
    const pv = fixture("legacy_pv_64.bin");
    // legacy_pv_64.bin: header 8, ext-info sig 8 + length 4 + blocks (8 + 0x1430 + 8), 4 frames, then vcpu_info {max 0, [1]} (16 bytes).
    const at = 8 + 8 + 4 + (8 + 0x1430) + 8 + 8 * 4;
    expect(Array.from(pv.subarray(at, at + 16))).toEqual([0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const without = Uint8Array.from([...pv.subarray(0, at), ...pv.subarray(at + 16)]);
    for (const [to, golden] of [[LIBXC, "conv_pv_64_libxc.bin"], [LIBXL, "conv_pv_64_libxl.bin"]] as const) {
      expect(await convertBytes(without, to)).toEqual(fixture(golden));
    }
  });
});

describe("inspect and notes", () => {
  // Expected values come from how shared/tools/xenpeer/build_all.py built the fixtures.
  test("legacy_hvm_64.bin", async () => {
    const ins = await legacyCodec.inspect(StreamReader.of(fixture("legacy_hvm_64.bin")), "64", {});
    expect(ins.format).toBe("legacy@64");
    expect(ins.json).toMatchObject({
      width: 64,
      guest: "hvm",
      p2m_size: 0x100000,
      batches: 1,
      pages: 3,
      filler_entries: 0,
      toolstack: { size: 49, physmap: [{ phys_offset: "0xf0000000", start_addr: "0xf0000000", size: "0x800000", name: "vga.vram" }] },
      tail: { type: "hvm", ioreq_pfn: "0xfefff", bufioreq_pfn: "0xfeffe", store_pfn: "0xfeffc", hvm_context: 40 },
      qemu: { signature: "DeviceModelRecord0002", size: 30 },
      bytes: 12652,
    });
    const names = (ins.json as { chunks: { name: string }[] }).chunks.map((c) => c.name);
    expect(names).toEqual(["tsc_info", "page_batch", "vcpu_info", "hvm_ident_pt", "hvm_vm86_tss", "hvm_console_pfn", "hvm_acpi_ioports_location", "hvm_viridian", "hvm_generation_id_addr", "toolstack", "end"]);
    expect(ins.text).toContain('physmap 0xf0000000 start 0xf0000000 size 0x800000 "vga.vram"');
  });

  test("legacy_pv_32tool_64guest.bin", async () => {
    const ins = await legacyCodec.inspect(StreamReader.of(fixture("legacy_pv_32tool_64guest.bin")), "32", {});
    expect(ins.json).toMatchObject({
      width: 32,
      guest: "pv",
      guest_width: 64,
      p2m_size: 0x800,
      pages: 2,
      tail: { type: "pv", unmapped_pfns: 1, vcpus: [0], vcpu_context: 0x1430, extended: true, xsave: 0 },
      qemu: null,
    });
  });

  test("what a libxc conversion leaves out is reported", async () => {
    const notes: string[] = [];
    const sink = new MemorySink();
    await legacyCodec.convert!(StreamReader.of(fixture("legacy_hvm_32.bin")), "32", LIBXC, sink, { onNote: (m: string) => notes.push(m) });
    expect(notes.some((n) => n.includes("toolstack") && n.includes("discarded"))).toBe(true);
    expect(notes.some((n) => n.includes("vcpu_info"))).toBe(true);
  });
});

describe("QEMU records the tool cannot convert", () => {
  const hvm = fixture("legacy_hvm_64.bin");
  // legacy_hvm_64.bin ends with "DeviceModelRecord0002", u32 30, 30 bytes of QEMU data.
  const sigAt = hvm.length - 30 - 4 - 21;
  const data = hvm.subarray(hvm.length - 30);
  const withSig = (sig: string, sized: boolean) =>
    Uint8Array.from([...hvm.subarray(0, sigAt), ...Buffer.from(sig, "latin1"), ...(sized ? hvm.subarray(sigAt + 21, sigAt + 25) : []), ...data]);

  test("RemusDeviceModelState converts like DeviceModelRecord0002", async () => {
    const remus = withSig("RemusDeviceModelState", true);
    expect(await convertBytes(remus, LIBXL)).toEqual(fixture("conv_hvm_64_libxl.bin"));
    const libxc = await convertBytes(remus, LIBXC);
    const golden = fixture("conv_hvm_64_libxc.bin");
    expect(libxc.subarray(0, golden.length - 55)).toEqual(golden.subarray(0, golden.length - 55));
    expect(Buffer.from(libxc.subarray(golden.length - 55, golden.length - 34)).toString("latin1")).toBe("RemusDeviceModelState");
  });

  test("QemuDeviceModelRecord takes the rest of a file, and is refused on a pipe", async () => {
    const toEof = withSig("QemuDeviceModelRecord", false);
    expect(await convertBytes(toEof, LIBXL)).toEqual(fixture("conv_hvm_64_libxl.bin"));
    await expect(convertBytes(toEof, LIBXL, {}, undefined, pipeReader(toEof))).rejects.toMatchObject({ code: "REFUSED", offset: sigAt });
    const libxc = await convertBytes(toEof, LIBXC);
    expect(libxc.subarray(libxc.length - 51)).toEqual(Uint8Array.from([...Buffer.from("QemuDeviceModelRecord", "latin1"), ...data]));
  });

  test("a record to the end of the stream round-trips through decode/encode and recode", async () => {
    const toEof = withSig("QemuDeviceModelRecord", false);
    const doc = JSON.parse(await textOf(legacyCodec.decode(pipeReader(toEof), "64", {})));
    expect(doc.items.at(-1)).toMatchObject({ kind: "qemu", signature: "QemuDeviceModelRecord", data: Buffer.from(data).toString("base64") });
    const enc = new MemorySink();
    await legacyCodec.encode(doc, enc, {});
    expect(enc.bytes()).toEqual(toEof);
    const rec = new MemorySink();
    await legacyCodec.recode(pipeReader(toEof), "64", rec, {});
    expect(rec.bytes()).toEqual(toEof);
  });
});

describe("every legacy fixture round-trips", () => {
  for (const name of ["legacy_hvm_32.bin", "legacy_hvm_64.bin", "legacy_pv_32.bin", "legacy_pv_64.bin", "legacy_pv_32tool_64guest.bin", "legacy_tiny_hvm_32.bin", "legacy_tiny_hvm_64.bin", "legacy_xl_hvm_64.bin"]) {
    test(name, async () => {
      const bytes = fixture(name);
      const text = await textOf(legacyCodec.decode(StreamReader.of(bytes), "64", {}));
      const doc = JSON.parse(text);
      expect(Object.keys(doc)[0]).toBe("format");
      const enc = new MemorySink();
      await legacyCodec.encode(doc, enc, {});
      expect(enc.bytes()).toEqual(bytes);
      const streamed = new MemorySink();
      await legacyCodec.encodeStream!(pipeReader(new TextEncoder().encode(text), 29), streamed, {});
      expect(streamed.bytes()).toEqual(bytes);
      const rec = new MemorySink();
      await legacyCodec.recode(pipeReader(bytes, 13), "64", rec, {});
      expect(rec.bytes()).toEqual(bytes);
      await expect(legacyCodec.verify(StreamReader.of(bytes), "64", {})).resolves.toMatchObject({ bytes: bytes.length });
    });
  }
});
