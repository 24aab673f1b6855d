import { isDeepStrictEqual } from "node:util";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { StreamReader, WireError, bytesSource } from "@vmstream/framing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { FIXTURES, QEMU_FIXTURES, STREAMS, convert, decodeText, encode, encodeText, fixture, recode, same } from "./qemu-helpers.js";

/** What QEMU's analyze-migration.py (7.2's and 10.0's print the same here) printed for the stream, where it could read it. */
function reference(name: string): string | null {
  const p = join(QEMU_FIXTURES, `${name}.analyze.json`);
  return existsSync(p) ? readFileSync(p, "utf8") : null;
}

const all = STREAMS;

describe.each(all)("%s", (name) => {
  const bytes = fixture(`${name}.mig`);
  const t = test;

  t("detect, verify and inspect", async () => {
    expect(qemuCodec.detect(bytes!.subarray(0, 4096))).toBe("3");
    const rep = await qemuCodec.verify(StreamReader.of(bytes!), "3", {});
    expect(rep.bytes).toBe(bytes!.byteLength);
    const ins = await qemuCodec.inspect(StreamReader.of(bytes!), "3", {});
    const s = ins.json as QemuSummary;
    expect(s.fault).toBeNull();
    expect(s.size).toBe(bytes!.byteLength);
    // The EOF byte sits where the vmdesc (or the end of the stream) says.
    expect(s.eof).toBe(s.vmdesc ? s.vmdesc.offset - 1 : bytes!.byteLength - 1);
    // Section sizes tile the stream between the first section and EOF.
    let at = s.sections[0]!.offset;
    for (const x of s.sections) {
      if (x.offset !== at) {
        // Only commands may sit between sections.
        expect(s.commands.some((c) => c.offset === at)).toBe(true);
      }
      at = x.offset + x.size;
    }
    expect(ins.text).toMatch(/valid\n$/);
  });

  t("recode is byte-identical", async () => {
    expect(same(await recode(bytes!), bytes!)).toBe(true);
  });

  t("recode's check finds that recode writes the bytes it read (so the CLI lets the kernel copy them)", async () => {
    for (const chunkSize of [1 << 20, 4096]) {
      const r = new StreamReader(bytesSource(bytes!), { chunkSize });
      await qemuCodec.recodeCheck!(r, "3", {});
      expect(r.offset).toBe(bytes!.byteLength);
    }
  });

  t("decode then encode is byte-identical", async () => {
    const text = await decodeText(bytes!);
    const doc = JSON.parse(text) as { format: string; stream: unknown[] };
    expect(doc.format).toBe("qemu@3");
    expect(same(await encode(doc), bytes!)).toBe(true);
    // The streaming encoder reads the same text in pieces and gives the same bytes.
    expect(same(await encodeText(text, 4093), bytes!)).toBe(true);
    // Reformatted (other whitespace, same key order) it still does.
    expect(same(await encodeText(JSON.stringify(doc)), bytes!)).toBe(true);
  });

  t("3 -> 4 -> 3 is byte-identical, and format 4 verifies", async () => {
    if (name === "pc-2.0-old") {
      await expect(convert(bytes!, "3", "4")).rejects.toMatchObject({ code: "REFUSED" });
      return;
    }
    const v4 = await convert(bytes!, "3", "4");
    expect(qemuCodec.detect(v4)).toBe("4");
    expect(v4.byteLength).toBeGreaterThan(bytes!.byteLength);
    await qemuCodec.verify(StreamReader.of(v4), "4", {});
    expect(same(await recode(v4, "4"), v4)).toBe(true);
    const doc4 = JSON.parse(await decodeText(v4, "4"));
    expect(same(await encode(doc4), v4)).toBe(true);
    expect(same(await convert(v4, "4", "3"), bytes!)).toBe(true);
    // A format-3 reader must reject the format-4 bytes (wrong version), and a
    // format-4 reader the format-3 ones.
    await expect(qemuCodec.verify(StreamReader.of(bytes!), "4", {})).rejects.toMatchObject({ code: "UNSUPPORTED_VERSION", offset: 4 });
  });

  const ref = reference(name);
  if (!ref) console.info(`${name}: skipping --view analyze: no reference (QEMU 7.2's analyze-migration.py cannot read it)`);
  if (!ref) test.skip(`--view analyze: no reference (QEMU 7.2's analyze-migration.py cannot read ${name})`, () => {});
  else test("--view analyze equals analyze-migration.py output", async () => {
    const a = await qemuCodec.inspect(StreamReader.of(bytes!), "3", { view: "analyze" });
    expect(a.text).toBe(ref);
    expect(isDeepStrictEqual(JSON.parse(JSON.stringify(a.json)), JSON.parse(ref!))).toBe(true);
    // The same stream in format 4 describes the same state.
    const a4 = await qemuCodec.inspect(StreamReader.of(await convert(bytes!, "3", "4")), "4", { view: "analyze" });
    expect(a4.text).toBe(ref);
  });
});

describe("stream features", () => {
  test("configuration subsection (validate-uuid) is decoded and kept", async () => {
    const b = fixture("pc-7.2-uuid.mig")!;
    const s = (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;
    expect(s.configuration).toEqual({
      name: "pc-i440fx-7.2",
      subsections: [{ name: "configuration/uuid", version: 1, size: 16, value: "0b5e55ed-c0de-4a11-9e57-000000000001" }],
    });
  });

  test("postcopy commands are decoded in order with their payloads", async () => {
    const b = fixture("pc-7.2-postcopy.mig")!;
    const s = (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;
    expect(s.commands.map((c) => [c.offset, c.name, c.length])).toEqual([
      [26, "OPEN_RETURN_PATH", 0],
      [31, "PING", 4],
      [40, "POSTCOPY_ADVISE", 16],
    ]);
    const doc = JSON.parse(await decodeText(b));
    // PING carries 1; ADVISE the host and target page sizes (4096, 4096).
    expect(doc.stream[2]).toEqual({ command: "PING", cmd: 2, data: "AAAAAQ==" });
    expect(Buffer.from(doc.stream[3].data, "base64").toString("hex")).toBe("00000000000010000000000000001000");
  });

  const ram6m = fixture("pc-7.2-ram6m.mig");
  test("RAM totals of the 6 MiB random-RAM stream", async () => {
    const b = ram6m!;
    const s = (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;
    // 6 MiB of random data are 1536 pages that cannot be ZERO pages.
    expect(s.ram.pages).toBeGreaterThanOrEqual(1536);
    expect(s.ram.pageBytes).toBe(s.ram.pages * 4096);
    expect(s.ram.blocks[0]).toEqual({ name: "pc.ram", length: 32 * 1024 * 1024 });
  });

  const compressed = fixture("pc-7.2-compress.mig");
  test("compressed pages (COMPRESS_PAGE) round-trip and are counted", async () => {
    const b = compressed!;
    const s = (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;
    expect(s.ram.compressedPages).toBeGreaterThan(0);
  });

  const old = fixture("pc-2.0-old.mig");
  test("a stream without footers or vmdesc (pc-2.0) is read with guessed bodies, losslessly", async () => {
    const b = old!;
    const s = (await qemuCodec.inspect(StreamReader.of(b), "3", {})).json as QemuSummary;
    expect(s.footers).toBe(false);
    expect(s.vmdesc).toBeNull();
    expect(s.sections.map((x) => x.idstr)).toContain("0000:00:02.0/rtl8139");
    expect(s.notes.join(" ")).toMatch(/delimited by scanning/);
    await expect(qemuCodec.inspect(StreamReader.of(b), "3", { view: "analyze" })).rejects.toMatchObject({ code: "REFUSED" });
  });
});

describe("recode's check on every stream a real QEMU release wrote", () => {
  const dir = join(FIXTURES, "qemu-releases");
  const migs = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".mig"));
  test("every stream passes: recode writes its bytes (mapped-ram files included)", async () => {
    expect(migs.length).toBeGreaterThan(10);
    for (const f of migs) {
      const bytes = readFileSync(join(dir, f));
      const r = StreamReader.of(bytes);
      await qemuCodec.recodeCheck!(r, "3", {});
      expect(r.offset, f).toBe(bytes.byteLength);
    }
  });
});
