/** The usage example of README.md, run against the repository sample. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { StreamReader } from "@vmstream/framing";
import { atomicFileSink, fileSource } from "@vmstream/node";
import { qemuCodec } from "../src/index.js";

test("README example", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vmstream-readme-"));
  const sample = join(import.meta.dirname, "../../../fixtures/qemu/pc-7.2-stopped.mig");
  try {
    const open = async () => new StreamReader(await fileSource(sample));
    const head = await open();
    await head.fill(8);
    const v = qemuCodec.detect(head.peek(8)) ?? "3";
    expect(v).toBe("3");
    expect((await qemuCodec.inspect(await open(), v, {})).text).toMatch(/sections: 33/);
    const az = await qemuCodec.inspect(await open(), v, { view: "analyze" });
    expect(az.text.startsWith('{\n    "ram (2)": {')).toBe(true);
    await qemuCodec.verify(await open(), v, {});
    let n = 0;
    for await (const piece of qemuCodec.decode(await open(), v, {})) n += piece.length;
    expect(n).toBeGreaterThan(0);
    await qemuCodec.convert!(await open(), v, { family: "qemu", version: "4" }, await atomicFileSink(join(dir, "pc.q4")), {});
    expect(qemuCodec.detect(readFileSync(join(dir, "pc.q4")).subarray(0, 8))).toBe("4");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
