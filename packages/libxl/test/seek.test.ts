import { ByteWriter, type Source, StreamReader, bytesSource } from "@vmstream/framing";
import { expect, test } from "vitest";
import { verifyLibxc, writeLibxcHeader, writeLibxcRecord, writePageDataHead } from "../src/index.js";

/** A seekable source that counts the bytes actually read. */
function counting(b: Uint8Array): { src: Source; read: () => number } {
  const inner = bytesSource(b);
  let n = 0;
  return {
    src: {
      size: b.byteLength,
      read: async (into) => {
        const k = await inner.read(into);
        n += k;
        return k;
      },
      seek: inner.seek!,
    },
    read: () => n,
  };
}

test("verify seeks over page contents: of a 16 MiB image of 1024-page records it reads the first chunk and little else", async () => {
  const w = new ByteWriter(1 << 20);
  writeLibxcHeader(w, { version: 3, domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 17 });
  writeLibxcRecord(w, { type: "STATIC_DATA_END" });
  const page = new Uint8Array(4096 * 1024).fill(0xa5);
  for (let r = 0; r < 4; r++) {
    writePageDataHead(w, Array.from({ length: 1024 }, (_, i) => ({ pfn: r * 1024 + i, type: "NOTAB" })));
    w.bytes(page);
  }
  writeLibxcRecord(w, { type: "END" });
  const b = w.finish();
  const c = counting(b);
  const chunk = 1 << 20;
  const rep = await verifyLibxc(new StreamReader(c.src, { chunkSize: chunk }));
  expect(rep.bytes).toBe(b.byteLength);
  // One chunk at the start, then per record its header and pfn array (a short read after each seek).
  expect(c.read()).toBeLessThan(chunk + 4 * (128 << 10));
});
