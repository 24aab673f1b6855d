import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, describe, expect, it } from "vitest";
import { openQcow2 } from "../src/index.js";
import { fileRandomAccess } from "../src/node.js";
import { drain } from "./helpers.js";

/*
 * Sparse VM-state areas that savevm never makes (QEMU writes the state
 * densely), written by qemu-io into the VM state area (`write -b`) with
 * extended L2 entries (2 KiB subclusters, partly allocated) and with small
 * clusters (unallocated holes between runs): the bytes vmstream reads must be
 * what qemu-io reads back (`read -b`) after the snapshot is applied.
 * qemu-img makes such snapshots with VM state size 0; the test sets the size.
 */
const tools = ["qemu-img", "qemu-io"].filter((t) => spawnSync(t, ["--version"]).status !== 0);
if (tools.length > 0) {
  if (interopRequired()) throw new Error(`VMSTREAM_INTEROP=required but ${tools.join(", ")} missing (Debian qemu-utils)`);
  console.info(`skip: qemu-io tests need ${tools.join(", ")} (Debian qemu-utils)`);
}
const dir = mkdtempSync(join(tmpdir(), "vmstream-qemu-io-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function qemuIoRead(img: string, len: number): Uint8Array {
  const copy = `${img}.applied`;
  copyFileSync(img, copy);
  expect(spawnSync("qemu-img", ["snapshot", "-a", "s", copy]).status).toBe(0);
  const r = spawnSync("qemu-io", ["-f", "qcow2", "-r", "-c", `read -b -v 0 ${len}`, copy], { encoding: "utf8", maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  const hex = [...r.stdout.matchAll(/^[0-9a-f]{8}: {2}((?:[0-9a-f]{2} ){16})/gm)].map((m) => m[1]!.replace(/ /g, "")).join("");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

describe.skipIf(tools.length > 0)("sparse VM state areas written by qemu-io", () => {
  it.each([
    ["cluster_size=65536,extended_l2=on", ["write -b -P 0x11 0 6k", "write -b -P 0x22 70k 2k"], 128 << 10],
    ["cluster_size=4096", ["write -b -P 0x33 0 8k", "write -b -P 0x44 16k 4k", "write -b -P 0x55 40k 1k"], 48 << 10],
    ["cluster_size=512,compat=0.10", ["write -b -P 0x66 512 1k", "write -b -P 0x77 4k 512"], 8 << 10],
  ] as const)("%s", async (opts, writes, size) => {
    const img = join(dir, `${opts.replace(/[^a-z0-9]/gi, "_")}.qcow2`);
    expect(spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", "-o", opts, img, "64M"]).status).toBe(0);
    const w = spawnSync("qemu-io", ["-f", "qcow2", ...writes.flatMap((c) => ["-c", c]), img], { encoding: "utf8" });
    expect(w.status, w.stderr).toBe(0);
    expect(spawnSync("qemu-img", ["snapshot", "-c", "s", img]).status).toBe(0);
    // Give the snapshot the VM state size savevm would have written (both the 32-bit field and, when there, extra_data's).
    const b = new Uint8Array(readFileSync(img));
    const dv = new DataView(b.buffer);
    const entry = Number(dv.getBigUint64(64));
    dv.setUint32(entry + 32, size);
    if (dv.getUint32(entry + 36) >= 8) dv.setBigUint64(entry + 40, BigInt(size));
    if (opts.includes("extended_l2")) {
      // The rest of the first data cluster (subclusters 3–31, unallocated) gets garbage: both readers must ignore it.
      const at = Buffer.from(b).indexOf(Buffer.alloc(6144, 0x11));
      expect(at % 65536).toBe(0);
      b.fill(0xee, at + 6144, at + 65536);
    }
    writeFileSync(img, b);

    const ra = await fileRandomAccess(img);
    try {
      const image = await openQcow2(ra);
      expect(image.snapshots.map((s) => [s.name, s.vmStateSize])).toEqual([["s", size]]);
      const got = await drain(image.vmState(image.snapshots[0]!), 3000);
      const want = qemuIoRead(img, size);
      expect(want.byteLength).toBe(size);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      expect(got.some((x) => x !== 0)).toBe(true);
    } finally {
      await ra.close?.();
    }
  });
});
