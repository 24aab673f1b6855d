/** Standard output as a sink. */
import type { Sink } from "@vmstream/framing";

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
