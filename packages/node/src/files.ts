/**
 * Files: as sources (a regular file seeks for free; a pipe, FIFO or character
 * device opened by name is read sequentially) and as outputs that appear
 * whole or not at all. The pipe reader and the write-behind slots load only
 * when a pipe or an output is actually met: a command that reads one file
 * pays for neither.
 */
import { fstatSync } from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Sink, Source } from "@vmstream/framing";

/** A regular file: reads go straight into the caller's buffer; seeks cost nothing. */
export async function fileSource(path: string): Promise<Source> {
  const fh = await open(path, "r");
  const st = await fh.stat();
  if (!st.isFile()) return await fdStreamSource(fh);
  let pos = 0;
  return {
    size: st.size,
    async read(into) {
      const { bytesRead } = await fh.read(into, 0, into.byteLength, pos);
      pos += bytesRead;
      return bytesRead;
    },
    async seek(n) {
      const k = Math.min(n, st.size - pos);
      pos += k;
      return k;
    },
    async close() {
      await fh.close();
    },
  };
}

/** A pipe, FIFO or character device opened as a file: sequential reads only. */
async function fdStreamSource(fh: FileHandle): Promise<Source> {
  const st = fstatSync(fh.fd);
  if (st.isFIFO() || st.isSocket()) {
    const { pipeSource } = await import("./pipe-source.js");
    return pipeSource(fh.fd, () => handleSource(fh), () => fh.close());
  }
  return handleSource(fh);
}

function handleSource(fh: FileHandle): Source {
  return {
    async read(into) {
      const { bytesRead } = await fh.read(into, 0, into.byteLength, null);
      return bytesRead;
    },
    async close() {
      await fh.close();
    },
  };
}

/**
 * Writes to a temporary file beside `path` and renames it over `path` on close,
 * so a reader never sees a half-written output; abort removes the temporary.
 */
export async function atomicFileSink(path: string): Promise<Sink> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now().toString(36)}`);
  const fh = await open(tmp, "wx", 0o644);
  const { WriteBehind } = await import("./write-behind.js");
  const out = new WriteBehind(fh);
  let done = false;
  return {
    write: (chunk) => out.write(chunk),
    hole: (n) => out.hole(n),
    writeAt: (pos, chunk) => out.writeAt(pos, chunk),
    coalesces: true,
    async close() {
      if (done) return;
      done = true;
      // Any failure up to and including the rename removes the temporary: no leftovers.
      try {
        await out.drain();
        // A hole at the very end has no byte after it to give the file its size.
        if (out.holes) await fh.truncate(out.position);
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
