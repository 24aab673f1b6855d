import { MalformedError, type StreamReader, TruncatedError, WireError, hex, padding8 } from "@vmstream/framing";
import { LIBXL_IDENT } from "@vmstream/wire-spec";
import { be32, firstNonZero, hex32, le32 } from "../libxc/bytes.js";
import type { LibxcHeader } from "../libxc/model.js";
import { type LibxcReadMode, type LibxcRecordInfo, LibxcReader } from "../libxc/reader.js";
import { EMULATORS, LIBXL_OPT_BIG_ENDIAN, LIBXL_OPT_LEGACY, LIBXL_REC, type LibxlRecord, libxlRecordName } from "./model.js";
import { parseXenstore } from "./xenstore.js";

export interface LibxlHeader {
  options: number;
}

/** One step of a libxl stream: a libxl record, or the embedded libxc image's headers or records. */
export type LibxlItem =
  | { layer: "libxl"; offset: number; code: number; name: string; length: number; record: LibxlRecord | null }
  | { layer: "libxc-header"; offset: number; header: LibxcHeader; reader: LibxcReader }
  | { layer: "libxc"; info: LibxcRecordInfo; reader: LibxcReader };

const IDENT_HI = Number(LIBXL_IDENT >> 32n);
const IDENT_LO = Number(LIBXL_IDENT & 0xffff_ffffn);

export async function readLibxlHeader(r: StreamReader, notes: string[]): Promise<LibxlHeader> {
  const at = r.offset;
  if (r.buffered < 16 && !(await r.fill(16))) throw new TruncatedError("libxl header", at, 16, r.buffered);
  const b = r.take(16);
  if (be32(b, 0) !== IDENT_HI || be32(b, 4) !== IDENT_LO) {
    throw new WireError("BAD_MAGIC", "bad libxl ident", at, { path: "header.ident", expected: '"LibxlFmt"' });
  }
  const version = be32(b, 8);
  if (version !== 2) throw new WireError("UNSUPPORTED_VERSION", "unsupported libxl stream version", at + 8, { path: "header.version", expected: "2", found: String(version) });
  const options = be32(b, 12);
  if (options & LIBXL_OPT_BIG_ENDIAN) {
    throw new WireError("UNSUPPORTED_VERSION", "big-endian stream (options bit 0): libxl restores only little-endian streams", at + 12, { path: "header.options" });
  }
  if (options & ~(LIBXL_OPT_BIG_ENDIAN | LIBXL_OPT_LEGACY)) {
    throw new WireError("RESERVED_BITS", "reserved libxl options bits set", at + 12, { path: "header.options", expected: "bits 2–31 clear", found: hex(options) });
  }
  if (options & LIBXL_OPT_LEGACY) notes.push("libxl header: produced by the legacy conversion tool");
  return { options };
}

/**
 * Walk a libxl stream after its header, checking the spec and libxl's restore
 * rules, and descending into the libxc image at LIBXC_CONTEXT (and again after
 * each CHECKPOINT_END of a checkpointed stream). The consumer must deal with a
 * PAGE_DATA item's contents before asking for the next item.
 */
export async function* walkLibxl(
  r: StreamReader,
  mode: LibxcReadMode,
  notes: string[],
  /** Verify mode only: check buffered libxc records in bulk without yielding them (their count is in the reader's stats). */
  drain = false,
): AsyncGenerator<LibxlItem> {
  drain &&= mode === "verify";
  let xc: LibxcReader | null = null;
  let inLibxc = false;
  /** The libxc part stopped at CHECKPOINT: libxl checkpoint records until CHECKPOINT_END. */
  let inCheckpoint = false;
  /** Right after CHECKPOINT_END: the stream may end here (a Remus/COLO failover point). */
  let resumable = false;
  let index = 0;
  for (;;) {
    if (inLibxc) {
      let info: LibxcRecordInfo | null;
      try {
        if (drain) {
          const before = xc!.stats.records;
          xc!.drainVerify();
          if (xc!.stats.records !== before) resumable = false;
          if (xc!.ended || xc!.atCheckpoint) {
            inLibxc = false;
            inCheckpoint = !xc!.ended;
            continue;
          }
        }
        info = await xc!.next(mode);
      } catch (e) {
        if (e instanceof WireError) e.within("libxc");
        throw e;
      }
      if (!info) {
        if (resumable) {
          notes.push(`stream ends after a checkpoint (offset ${r.offset}): a receiver restores the last complete checkpoint`);
          return;
        }
        throw new TruncatedError("libxc stream inside LIBXC_CONTEXT: it ends without END", r.offset, 8, 0);
      }
      resumable = false;
      yield { layer: "libxc", info, reader: xc! };
      if (drain && xc!.pendingPages.bytes) await xc!.skipPages();
      if (xc!.ended) inLibxc = false;
      else if (xc!.atCheckpoint) {
        inLibxc = false;
        inCheckpoint = true;
      }
      continue;
    }
    const offset = r.offset;
    if (r.buffered < 8 && !(await r.fill(8))) {
      throw new TruncatedError(r.buffered ? "libxl record header" : "libxl stream: it ends without an END record", offset, 8, r.buffered, { path: `libxl[${index}]` });
    }
    const hb = r.take(8);
    const code = le32(hb, 0);
    const length = le32(hb, 4);
    const name = libxlRecordName(code);
    const path = `libxl[${index}](${name})`;
    index++;
    const fail = (reason: string, at = offset, d: { expected?: string; found?: string } = {}): never => {
      throw new MalformedError(reason, at, { path, ...d });
    };
    const empty = () => {
      if (length !== 0) fail(`${name} must have an empty body`, offset + 4, { expected: "0", found: String(length) });
    };
    let record: LibxlRecord | null = null;
    switch (code) {
      case LIBXL_REC.END:
        empty();
        if (inCheckpoint) fail("END inside a checkpoint (CHECKPOINT_END expected first)");
        if (xc && !xc.ended) fail("END while the libxc stream is unfinished");
        if (!xc) notes.push("no LIBXC_CONTEXT: the stream carries no guest memory or CPU state");
        break;
      case LIBXL_REC.LIBXC_CONTEXT:
        empty();
        if (xc) fail("second LIBXC_CONTEXT: a stream carries one libxc image");
        break;
      case LIBXL_REC.EMULATOR_XENSTORE_DATA:
      case LIBXL_REC.EMULATOR_CONTEXT: {
        if (length < 8) fail(`${name} body must hold the 8-byte emulator header`, offset + 4, { found: String(length) });
        if (xc?.header && xc.header.domainType !== 2) fail(`${name} in a stream for an ${xc.header.domainType === 1 ? "x86 PV" : "unknown"} guest: only HVM guests have an emulator`);
        await r.need(8, `${path} emulator header`);
        const eh = r.take(8);
        const emu = le32(eh, 0);
        const idx = le32(eh, 4);
        if (EMULATORS[emu] === undefined) fail("unknown emulator id", offset + 8, { expected: "0, 1 or 2", found: String(emu) });
        const n = length - 8;
        if (code === LIBXL_REC.EMULATOR_XENSTORE_DATA) {
          await r.need(n, `${path} body`);
          const entries = parseXenstore(r.take(n), offset + 16, path);
          if (mode !== "verify") record = { type: "EMULATOR_XENSTORE_DATA", emulator_id: emu, index: idx, entries };
        } else if (mode === "verify") await r.skip(n, `${path} body`);
        else {
          await r.need(n, `${path} body`);
          record = { type: "EMULATOR_CONTEXT", emulator_id: emu, index: idx, data: r.take(n).slice() };
        }
        break;
      }
      case LIBXL_REC.CHECKPOINT_END:
        empty();
        if (!inCheckpoint) fail("CHECKPOINT_END outside a checkpoint (libxc has not sent CHECKPOINT)");
        break;
      case LIBXL_REC.CHECKPOINT_STATE: {
        if (length !== 4) fail("CHECKPOINT_STATE body must be 4 bytes", offset + 4, { expected: "4", found: String(length) });
        await r.need(4, `${path} body`);
        const id = le32(r.take(4), 0);
        if (id > 3) notes.push(`offset ${offset}: CHECKPOINT_STATE with undefined control id ${id}`);
        if (mode !== "verify") record = { type: "CHECKPOINT_STATE", control_id: id };
        break;
      }
      default:
        if (!(code & 0x8000_0000)) throw new WireError("UNKNOWN_MANDATORY_RECORD", `unknown mandatory libxl record type ${hex32(code)}`, offset, { path });
        notes.push(`offset ${offset}: optional libxl record ${hex32(code)} (${length} bytes) carried but not interpreted (libxl itself refuses unknown records)`);
        if (mode === "verify") await r.skip(length, `${path} body`);
        else {
          await r.need(length, `${path} body`);
          record = { type: "OPTIONAL", code, body: r.take(length).slice() };
        }
    }
    const pad = padding8(length);
    if (pad) {
      const at = r.offset;
      await r.need(pad, `${path} padding`);
      const v = r.take(pad);
      const nz = firstNonZero(v, 0, pad);
      if (nz >= 0) throw new WireError("NONZERO_PADDING", "non-zero record padding", at + nz, { path, expected: "0x00", found: hex(v[nz]!, 2) });
    }
    if (mode !== "verify" && record === null) record = { type: name as "END" };
    yield { layer: "libxl", offset, code, name, length, record };
    if (code === LIBXL_REC.END) {
      if (!(await r.atEnd())) throw new WireError("TRAILING_BYTES", "bytes after the libxl END record", r.offset, { expected: "end of stream" });
      return;
    }
    if (code === LIBXL_REC.LIBXC_CONTEXT) {
      xc = new LibxcReader(r, { embedded: true, notes });
      const at = r.offset;
      let header: LibxcHeader;
      try {
        header = await xc.readHeader();
      } catch (e) {
        if (e instanceof WireError) e.within("libxc");
        throw e;
      }
      yield { layer: "libxc-header", offset: at, header, reader: xc };
      inLibxc = true;
    } else if (code === LIBXL_REC.CHECKPOINT_END) {
      xc!.atCheckpoint = false; // libxc resumes after the checkpoint
      inCheckpoint = false;
      inLibxc = true;
      resumable = true;
    }
  }
}
