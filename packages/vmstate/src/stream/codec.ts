/** The QEMU savevm family for the CLI: formats qemu@3 (what QEMU writes) and qemu@4. */
import { RefusedError, SameBytes, type CodecOptions, type FamilyCodec, type FormatId, type Sink, type StreamReader } from "@vmstream/framing";
import { QEMU_VM_FILE_MAGIC } from "./constants.js";
import { analyzeView } from "./analyze.js";
import { decodeDoc, decodeDocBytes, encodeDoc, encodeDocText } from "./document.js";
import { inspectStream, verifyStream } from "./inspect.js";
import { parseVersion, pump } from "./pipeline.js";

/**
 * `encodeStream` is `encode` from the document's JSON text in a StreamReader:
 * it never holds the document whole, so use it for documents larger than a
 * string (decoded guests with hundreds of MiB of RAM).
 */
export interface QemuCodec extends FamilyCodec {
  encodeStream(json: StreamReader, out: Sink, opts: CodecOptions): Promise<void>;
}

export const qemuCodec: QemuCodec = {
  family: "qemu",
  versions: ["3", "4"],
  detect(head: Uint8Array): string | null {
    if (head.byteLength < 8) return null;
    const dv = new DataView(head.buffer, head.byteOffset, 8);
    if (dv.getUint32(0) !== QEMU_VM_FILE_MAGIC) return null;
    const v = dv.getUint32(4);
    return v === 3 || v === 4 ? String(v) : null;
  },
  async inspect(input, version, opts) {
    if (opts.view === "analyze") {
      const a = await analyzeView(input, version, opts);
      return { format: `qemu@${version}`, json: a.value, text: a.text };
    }
    if (opts.view !== undefined && opts.view !== "summary")
      throw new RefusedError(`unknown view "${opts.view}"`, 0, { expected: "analyze or summary" });
    return inspectStream(input, version, opts);
  },
  verify: verifyStream,
  decode: decodeDoc,
  decodeBytes: decodeDocBytes,
  encode: encodeDoc,
  encodeStream: encodeDocText,
  async recode(input: StreamReader, version: string, out: Sink, opts: CodecOptions): Promise<void> {
    const v = parseVersion(version);
    await pump(input, v, v, out, opts);
  },
  async recodeCheck(input: StreamReader, version: string, opts: CodecOptions): Promise<void> {
    // Recode re-encodes what it parsed: what it would write is compared with what it read, as it goes.
    const v = parseVersion(version);
    const same = new SameBytes(input);
    input.passThrough(same.expected);
    await pump(input, v, v, same.sink, opts);
    await input.endPassThrough();
    same.finish();
  },
  async convert(input: StreamReader, version: string, to: FormatId, out: Sink, opts: CodecOptions): Promise<void> {
    const v = parseVersion(version);
    if (to.family !== "qemu") throw new RefusedError(`qemu@${version} cannot be converted to ${to.family}`, 0);
    if (opts["layout"] === "mapped-ram" && !out.writeAt) throw new RefusedError("a mapped-ram file is written at file offsets: name an output file, not standard output", 0);
    if (to.version === version && opts["layout"] === undefined) throw new RefusedError(`qemu@${version} to itself needs --layout plain or mapped-ram`, 0);
    await pump(input, v, parseVersion(to.version), out, opts);
  },
  convertTargets(version: string): FormatId[] {
    return version === "3" ? [{ family: "qemu", version: "4" }] : version === "4" ? [{ family: "qemu", version: "3" }] : [];
  },
};
