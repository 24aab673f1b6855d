import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { negativeCases } from "./negative-cases.js";
import { verdict } from "./verdict.js";

describe("the 87 mutation cases of xen-verify-negative.md", () => {
  test("the port has every case of the recorded table, with the recorded exit codes", () => {
    expect(negativeCases).toHaveLength(87);
    const table = "../../../docs/research/xen-verify-negative.md";
    const path = new URL(table, import.meta.url);
    const rows = readFileSync(path, "utf8")
      .split("\n")
      .filter((l) => /^\| .* \| (libxc|libxl|xl) \| \d \|/.test(l))
      .map((l) => l.split(" | "));
    expect(rows).toHaveLength(87);
    rows.forEach((r, i) => {
      expect(negativeCases[i]!.fmt).toBe(r[1]);
      expect(negativeCases[i]!.peer).toBe(Number(r[2]));
    });
  });

  for (const c of negativeCases) {
    const peer = c.peer === 0 ? "accept" : "reject";
    const want = c.ours ?? peer;
    test(`${c.fmt}: ${c.name} → ${want}${c.ours ? ` (peer: ${peer}; ${c.why})` : ""}`, async () => {
      expect(await verdict(c.fmt, c.bytes)).toBe(want);
    });
  }
});
