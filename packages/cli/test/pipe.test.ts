import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contextDescriptorBytes, contextHeaderBytes } from "@vmstream/libxl";
import { describe, expect, it } from "vitest";
import { BIN } from "./run.js";

/*
 * Standard input from a real pipe (not the socket pair Node's spawn makes):
 * past the first MiB, vmstream asks the kernel for a 1 MiB pipe buffer. The
 * shell keeps the pipe open after vmstream exits, so perl can read its size
 * back (F_GETPIPE_SZ = 1032) from the same descriptor, once the fire-and-forget
 * resize has had time to land.
 */
const hasPerl = (() => {
  try {
    execFileSync("perl", ["-e", "1"]);
    return true;
  } catch {
    return false;
  }
})();

function bigContextStream(): string {
  const h = { version: 2 as const, xenMajor: 4, xenMinor: 17, bigEndian: false };
  const body = new Uint8Array(3 << 20).fill(0x5a);
  const parts = [contextHeaderBytes(h), contextDescriptorBytes(h, 7, 0, body.byteLength), body, contextDescriptorBytes(h, 0, 0, 0)];
  const path = join(mkdtempSync(join(tmpdir(), "pipe-")), "big.ctx");
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

const sizeAfter = (file: string, env: NodeJS.ProcessEnv) =>
  execFileSync(
    "sh",
    ["-c", `cat "$1" | { "$2" "$3" verify - >/dev/null && sleep 0.5 && perl -e 'print fcntl(STDIN, 1032, 0)'; }`, "sh", file, process.execPath, BIN],
    { env: { ...process.env, ...env }, encoding: "utf8" },
  ).trim();

describe.skipIf(process.platform !== "linux" || !hasPerl)("standard input from a pipe", () => {
  it("grows the pipe to 1 MiB for a long stream, and leaves it alone when told", () => {
    const file = bigContextStream();
    expect(sizeAfter(file, {})).toBe(String(1 << 20));
    expect(sizeAfter(file, { VMSTREAM_PIPE_SIZE: "0" })).toBe(String(64 << 10));
  });
});
