/**
 * Output files that appear whole or not at all: written beside the target
 * and renamed over it on close.
 */
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Sink } from "@vmstream/framing";
import { WriteBehind } from "./write-behind.js";

/**
 * Writes to a temporary file beside `path` and renames it over `path` on close,
 * so a reader never sees a half-written output; abort removes the temporary.
 */
export async function atomicFileSink(path: string): Promise<Sink> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fh = await open(tmp, "wx", 0o644);
  const out = new WriteBehind(fh);
  let done = false;
  return {
    write: (chunk) => out.write(chunk),
    coalesces: true,
    async close() {
      if (done) return;
      done = true;
      // Any failure up to and including the rename removes the temporary: no leftovers.
      try {
        await out.drain();
        await fh.close();
        await rename(tmp, path);
      } catch (e) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw e;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      await out.drain().catch(() => {});
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}
