import { MalformedError, type StreamReader, WireError } from "@vmstream/framing";
import { le32 } from "./bytes.js";
import type { LibxcHeader } from "./model.js";

/**
 * convert-legacy-stream in libxc mode appends the legacy QEMU record verbatim
 * after END: a 21-byte signature, then (for the two length-prefixed kinds) a
 * u32 length and the data. It is the only thing allowed after END, and only in
 * a converted image (xen_major 0) where it must run exactly to the end.
 */
export interface QemuTail {
  signature: string;
  data: Uint8Array;
}

const SIGS = ["DeviceModelRecord0002", "RemusDeviceModelState"];
const td = new TextDecoder("latin1");

/** Null at a clean end; the tail's bytes are skipped unless `keep`. */
export async function readAfterEnd(r: StreamReader, h: LibxcHeader, keep: boolean): Promise<QemuTail | null> {
  if (await r.atEnd()) return null;
  const at = r.offset;
  const trailing = () => new WireError("TRAILING_BYTES", "bytes after the END record", at, { expected: "end of stream" });
  if (h.xenMajor !== 0 || !(await r.fill(25))) throw trailing();
  const sig = td.decode(r.peek(21));
  if (!SIGS.includes(sig)) throw trailing();
  r.take(21);
  const len = le32(r.take(4), 0);
  let data = new Uint8Array(0);
  if (keep) {
    await r.need(len, "legacy QEMU record");
    data = r.take(len).slice();
  } else await r.skip(len, "legacy QEMU record");
  if (!(await r.atEnd())) throw new MalformedError("bytes after the legacy QEMU record", r.offset, { expected: "end of stream" });
  return { signature: sig, data };
}

export function qemuTailBytes(t: QemuTail): Uint8Array {
  if (!SIGS.includes(t.signature)) throw new MalformedError(`qemu_tail.signature must be one of ${SIGS.join(", ")}`, 0);
  const out = new Uint8Array(25 + t.data.byteLength);
  for (let i = 0; i < 21; i++) out[i] = t.signature.charCodeAt(i);
  new DataView(out.buffer).setUint32(21, t.data.byteLength, true);
  out.set(t.data, 25);
  return out;
}
