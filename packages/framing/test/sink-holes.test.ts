import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { MemorySink } from "../src/index.js";
import { atomicFileSink } from "../src/node.js";

/*
 * Sink.hole leaves bytes unwritten (a hole in an output file, zeros in memory)
 * and Sink.writeAt writes behind the sequential position: what mapped-ram
 * files need. A hole at the very end still gives the file its size.
 */
const expected = (): Buffer => {
  const b = Buffer.alloc(2 + 10 + 2 + (8 << 20));
  b.write("ab", 0, "latin1");
  b.write("x", 5, "latin1");
  b.write("cd", 12, "latin1");
  return b;
};

test("the atomic file sink leaves holes and writes at offsets", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "sink-holes-")), "out");
  const s = await atomicFileSink(path);
  await s.write(Buffer.from("ab"));
  await s.hole!(10);
  await s.write(Buffer.from("cd"));
  await s.writeAt!(5, Buffer.from("x"));
  await s.hole!(8 << 20);
  await s.close();
  expect(readFileSync(path).equals(expected())).toBe(true);
  // 8 MiB of hole at the end takes no space.
  expect(statSync(path).blocks * 512).toBeLessThan(1 << 20);
});

test("the memory sink gives the same bytes", async () => {
  const s = new MemorySink();
  s.write(Buffer.from("ab"));
  s.hole(10);
  s.write(Buffer.from("cd"));
  await s.writeAt(5, Buffer.from("x"));
  s.hole(8 << 20);
  expect(Buffer.from(s.bytes()).equals(expected())).toBe(true);
});
