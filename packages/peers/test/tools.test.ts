import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { chromiumPath, qemuImg, qemuIo, requirePeer, xenTool } from "../src/index.js";
import { tempDir } from "./tmp.js";

const run = promisify(execFile);
const dir = tempDir("tools");

describe("qemu-img and qemu-io (Debian qemu-utils)", () => {
  const img = qemuImg();
  const io = qemuIo();
  const present = requirePeer("qemu-img", img) && requirePeer("qemu-io", io);

  test.skipIf(!present)("create a qcow2, take two internal snapshots, list them; write and read back with qemu-io", async () => {
    const file = join(dir, "disk.qcow2");
    await run(img!, ["create", "-q", "-f", "qcow2", file, "1M"]);
    await run(io!, ["-f", "qcow2", "-c", "write -P 0xab 0 4096", file]);
    await run(img!, ["snapshot", "-c", "snap-a", file]);
    await run(img!, ["snapshot", "-c", "snap-b", file]);
    const { stdout } = await run(img!, ["snapshot", "-l", file]);
    expect(stdout).toMatch(/snap-a/);
    expect(stdout).toMatch(/snap-b/);
    const info = JSON.parse((await run(img!, ["info", "--output=json", file])).stdout) as { snapshots: Array<{ name: string }> };
    expect(info.snapshots.map((s) => s.name)).toEqual(["snap-a", "snap-b"]);
    const read = await run(io!, ["-f", "qcow2", "-r", "-c", "read -P 0xab 0 4096", file]);
    expect(read.stdout).toMatch(/read 4096\/4096 bytes/);
  });
});

describe("Xen's Python tools (Debian xen-utils-4.17)", () => {
  for (const name of ["verify-stream-v2", "convert-legacy-stream"] as const) {
    const tool = xenTool(name);
    test.skipIf(!requirePeer(name, tool))(`${name} --help runs with its PYTHONPATH`, async () => {
      const { stdout } = await run(tool!.bin, ["--help"], { env: tool!.env });
      expect(stdout).toMatch(/Usage:/i);
    });
  }
});

describe("chromium (Debian)", () => {
  const bin = chromiumPath();
  test.skipIf(!requirePeer("chromium", bin))("--version", async () => {
    const { stdout } = await run(bin!, ["--version"]);
    expect(stdout).toMatch(/^Chromium \d+\./);
  });
});
