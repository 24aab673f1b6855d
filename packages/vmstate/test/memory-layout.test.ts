/**
 * Guest-physical layout of x86 RAM by machine type and size, as QEMU's
 * hw/i386/pc_piix.c and pc_q35.c split it (their comments give the examples:
 * `-M pc-1.7 -m 4G` → 3584M low, 512M high; `-M pc -m 4G` → 3072M low,
 * 1024M high). The 4 GiB pc case is checked against QEMU 10.0's own
 * dump-guest-memory in packages/cli/test/memory.test.ts.
 */
import { expect, test } from "vitest";
import { x86RamRanges } from "../src/index.js";

const M = 1 << 20;
const G = 1024 * M;
const split = (m: string, size: number) => x86RamRanges(m, size)!.map((r) => [r.gpa / M, r.offset / M, r.length / M]);

test.each([
  ["pc-i440fx-10.0", 64 * M, [[0, 0, 64]]],
  ["pc-i440fx-10.0", 3.5 * G - 4096, [[0, 0, 3.5 * 1024 - 1 / 256]]],
  ["pc-i440fx-10.0", 4 * G, [[0, 0, 3072], [4096, 3072, 1024]]],
  ["pc-i440fx-7.2", 3.5 * G, [[0, 0, 3072], [4096, 3072, 512]]],
  ["pc-i440fx-1.7", 4 * G, [[0, 0, 3584], [4096, 3584, 512]]],
  ["pc-1.7", 4 * G, [[0, 0, 3584], [4096, 3584, 512]]],
  ["pc", 8 * G, [[0, 0, 3072], [4096, 3072, 5120]]],
  ["pc-q35-10.0", 2.75 * G - 4096, [[0, 0, 2.75 * 1024 - 1 / 256]]],
  ["pc-q35-10.0", 2.75 * G, [[0, 0, 2048], [4096, 2048, 768]]],
  ["pc-q35-7.2", 4 * G, [[0, 0, 2048], [4096, 2048, 2048]]],
  ["pc-q35-1.7", 4 * G, [[0, 0, 2816], [4096, 2816, 1280]]],
  ["q35", 64 * M, [[0, 0, 64]]],
] as const)("%s with %d bytes", (m, size, want) => {
  expect(split(m, size)).toEqual(want);
});

test("machines with another memory map have none here", () => {
  expect(x86RamRanges("virt-10.0", 64 * M)).toBeNull();
  expect(x86RamRanges("isapc", 64 * M)).toBeNull();
  expect(x86RamRanges("microvm", 64 * M)).toBeNull();
});
