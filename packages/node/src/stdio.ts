/** Standard input and output: a source whatever the shell connected, and a sink with back-pressure. */
import { fstatSync } from "node:fs";
import type { Sink, Source } from "@vmstream/framing";
import { fileSource } from "./files.js";

/** Standard input (a pipe, a file redirect or a terminal). */
export async function stdinSource(): Promise<Source> {
  // A redirected regular file gets the seekable path; otherwise read the stream.
  const st = fstatSync(0);
  if (st.isFile()) return fileSource("/dev/stdin");
  const nodeStream = () => iteratorSource(process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  if (st.isFIFO() || st.isSocket()) return (await import("./pipe-source.js")).pipeSource(0, nodeStream);
  return nodeStream();
}

/** Chunks of a Node readable (a terminal, or a pipe we cannot read directly). */
function iteratorSource(it: AsyncIterator<Buffer>): Source {
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

/** Standard output, respecting back-pressure so large outputs are not buffered whole. */
export function stdoutSink(): Sink {
  const out = process.stdout;
  return {
    write(chunk) {
      if (chunk.byteLength >= 1 << 16) {
        // A large block (decode's 1 MiB of JSON) goes out as it is, and the caller may
        // reuse it once written: a copy would cost a fresh 1 MiB allocation (mmap, page
        // faults, zeroing) per block, about half of a decode's time.
        const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        return new Promise<void>((resolve, reject) => {
          out.write(view, (e) => (e ? reject(e) : resolve()));
        });
      }
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
