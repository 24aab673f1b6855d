/**
 * Files as sources: a regular file seeks for free; a pipe, FIFO or character
 * device opened by name is read sequentially.
 */
import { fstatSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import type { Source } from "@vmstream/framing";
import { pipeSource } from "./pipe-source.js";

/** A regular file: reads go straight into the caller's buffer; seeks cost nothing. */
export async function fileSource(path: string): Promise<Source> {
  const fh = await open(path, "r");
  const st = await fh.stat();
  if (!st.isFile()) return fdStreamSource(fh);
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
function fdStreamSource(fh: FileHandle): Source {
  const st = fstatSync(fh.fd);
  if (st.isFIFO() || st.isSocket()) {
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
