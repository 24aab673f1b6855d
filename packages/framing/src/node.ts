/**
 * Node-only entry point (`@vmstream/framing/node`): files, standard input and
 * atomic output files. The main entry stays browser-safe.
 */
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Sink } from "./sink.js";
import type { Source } from "./source.js";

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

/** Standard input (a pipe, a file redirect or a terminal). */
export async function stdinSource(): Promise<Source> {
  // A redirected regular file gets the seekable path; otherwise read the stream.
  const { fstatSync } = await import("node:fs");
  const st = fstatSync(0);
  if (st.isFile()) return fileSource("/dev/stdin");
  const it = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let cur: Uint8Array = new Uint8Array(0);
  let done = false;
  return {
    async read(into) {
      while (cur.byteLength === 0) {
        if (done) return 0;
        const r = await it.next();
        if (r.done) {
          done = true;
          return 0;
        }
        cur = r.value;
      }
      const n = Math.min(into.byteLength, cur.byteLength);
      into.set(cur.subarray(0, n));
      cur = cur.subarray(n);
      return n;
    },
    async close() {
      done = true;
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
  let done = false;
  return {
    async write(chunk) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    },
    async close() {
      if (done) return;
      done = true;
      await fh.close();
      await rename(tmp, path);
    },
    async abort() {
      if (done) return;
      done = true;
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
    },
  };
}

/** Standard output, respecting back-pressure so large outputs are not buffered whole. */
export function stdoutSink(): Sink {
  const out = process.stdout;
  return {
    write(chunk) {
      // Node may keep the buffer until flushed; the caller reuses its buffer, so copy.
      if (out.write(Buffer.from(chunk))) return;
      return new Promise<void>((resolve, reject) => {
        const onDrain = () => {
          out.off("error", onError);
          resolve();
        };
        const onError = (e: Error) => {
          out.off("drain", onDrain);
          reject(e);
        };
        out.once("drain", onDrain);
        out.once("error", onError);
      });
    },
    async close() {},
    async abort() {},
  };
}
