import { readFileSync } from "node:fs";
import { families, latest } from "@vmstream/wire-spec";
import { describe, expect, it } from "vitest";
import { CODECS, DETECT_BYTES, UnknownFormatError, detectFormat, familyTitle, loadCodec, parseFormat } from "../src/index.js";

const fixture = (p: string) => new Uint8Array(readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url))).subarray(0, DETECT_BYTES);

describe("the codec registry", () => {
  it("has one entry per wire-spec family, and each loads the codec of that family", async () => {
    expect(CODECS.map((e) => e.family).sort()).toEqual(families.map((f) => f.name).sort());
    for (const e of CODECS) expect((await loadCodec(e.family)).family).toBe(e.family);
    // Legacy images have no magic: recognised by elimination, so they are tried last.
    expect(CODECS.at(-1)!.family).toBe("legacy");
  });

  it.each([
    ["qemu/pc-7.2-stopped.mig", "qemu@3"],
    ["xen/libxc_tiny_v3.bin", "libxc@3"],
    ["xen/libxl_tiny.bin", "libxl@2"],
    ["xen/xl_tiny.bin", "xl@1"],
    ["xen/legacy_tiny_hvm_64.bin", "legacy@64"],
    ["xen/legacy_xl_hvm_64.bin", "legacy@64"],
    ["context/ctx1-small.bin", "context@1"],
  ])("detects %s (written by the real tool) as %s", async (file, format) => {
    const found = await detectFormat(fixture(file));
    expect(found && `${found.codec.family}@${found.version}`).toBe(format);
  });

  it("names formats as the wire spec does", () => {
    expect(parseFormat("libxc@2")).toEqual({ family: "libxc", version: "2" });
    expect(parseFormat("qemu")).toEqual({ family: "qemu", version: latest("qemu") });
    expect(() => parseFormat("qemu@9")).toThrow(UnknownFormatError);
    expect(() => parseFormat("nope")).toThrow(/unknown format 'nope' \(known: .*qemu/);
    expect(() => parseFormat("qemu@3@4")).toThrow(UnknownFormatError);
    expect(familyTitle("qemu")).toBe(families.find((f) => f.name === "qemu")!.title);
  });

  it("refuses a family it has no codec for", async () => {
    await expect(loadCodec("vmware")).rejects.toBeInstanceOf(UnknownFormatError);
    await expect(loadCodec("__proto__")).rejects.toBeInstanceOf(UnknownFormatError);
  });
});
