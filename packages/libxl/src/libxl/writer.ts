import { type ByteWriter, MalformedError, padding8 } from "@vmstream/framing";
import { LIBXL_IDENT } from "@vmstream/wire-spec";
import { LIBXL_OPT_LEGACY, LIBXL_REC, type LibxlRecord } from "./model.js";
import { xenstoreBytes } from "./xenstore.js";

/** The 16-byte libxl header (big-endian); `legacy` sets option bit 1 as convert-legacy-stream does. */
export function writeLibxlHeader(w: ByteWriter, opts: { legacy?: boolean } = {}): ByteWriter {
  return w.u64be(LIBXL_IDENT).u32be(2).u32be(opts.legacy ? LIBXL_OPT_LEGACY : 0);
}

function framed(w: ByteWriter, type: number, fill: (w: ByteWriter) => void): ByteWriter {
  const at = w.length;
  w.u32le(type >>> 0).u32le(0);
  fill(w);
  const len = w.length - at - 8;
  w.setU32(at + 4, len, true);
  return w.zeros(padding8(len));
}

const u32 = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new MalformedError(`${what}: expected a u32`, 0, { found: String(v) });
  return v;
};

/**
 * Append one libxl record. After LIBXC_CONTEXT the caller writes the libxc
 * image (writeLibxcHeader, writeLibxcRecord … END) before the next libxl record.
 */
export function writeLibxlRecord(w: ByteWriter, rec: LibxlRecord): ByteWriter {
  switch (rec.type) {
    case "END":
    case "LIBXC_CONTEXT":
    case "CHECKPOINT_END":
      return w.u32le(LIBXL_REC[rec.type]).u32le(0);
    case "EMULATOR_XENSTORE_DATA":
      return framed(w, LIBXL_REC.EMULATOR_XENSTORE_DATA, (b) =>
        b.u32le(u32(rec.emulator_id, "emulator_id")).u32le(u32(rec.index, "index")).bytes(xenstoreBytes(rec.entries)),
      );
    case "EMULATOR_CONTEXT":
      return framed(w, LIBXL_REC.EMULATOR_CONTEXT, (b) => b.u32le(u32(rec.emulator_id, "emulator_id")).u32le(u32(rec.index, "index")).bytes(rec.data));
    case "CHECKPOINT_STATE":
      return framed(w, LIBXL_REC.CHECKPOINT_STATE, (b) => b.u32le(u32(rec.control_id, "control_id")));
    case "OPTIONAL":
      if (!(rec.code & 0x8000_0000)) throw new MalformedError(`OPTIONAL record code 0x${rec.code.toString(16)} lacks bit 31`, 0);
      return framed(w, rec.code, (b) => b.bytes(rec.body));
  }
}
