import { ByteWriter, MalformedError, type Sink, padding8, writeRecord } from "@vmstream/framing";
import { LIBXC_ID, LIBXC_PAGE_TYPES, LIBXC_REC_LENGTH_MAX } from "@vmstream/wire-spec";
import { type LibxcHeader, type LibxcRecord, type PageEntry, LIBXC_CODES } from "./model.js";

/**
 * Writers for libxc images. Every function appends to a ByteWriter (reuse one
 * with `reset()` between records) and writes little-endian records, the only
 * order Xen restores. Values are checked for range so a bad call fails here,
 * not in the receiver.
 */

export const PAGE_SIZE = 4096;

const PAGE_NIBBLE: ReadonlyMap<string, number> = new Map(
  LIBXC_PAGE_TYPES.flatMap((t) => (t ? [[t.name, t.nibble] as const] : [])),
);

/** The nibble of a PAGE_DATA type name (NOTAB … XTAB). */
export function pageTypeNibble(type: string): number {
  const n = PAGE_NIBBLE.get(type);
  if (n === undefined) throw new MalformedError(`unknown PAGE_DATA type ${JSON.stringify(type)}`, 0);
  return n;
}

/** True when a pfn of this type carries a page of contents. */
export const pageTypeHasData = (type: string): boolean => LIBXC_PAGE_TYPES[pageTypeNibble(type)]!.data;

const u32 = (v: number, what: string): number => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new MalformedError(`${what}: expected a u32`, 0, { found: String(v) });
  return v;
};
const u64 = (v: bigint, what: string): bigint => {
  if (v < 0n || v > 0xffff_ffff_ffff_ffffn) throw new MalformedError(`${what}: expected a u64`, 0, { found: String(v) });
  return v;
};

/** The 24-byte image header (always big-endian; options 0 = little-endian records). */
export function writeImageHeader(w: ByteWriter, version: 2 | 3): ByteWriter {
  return w.u64be(0xffff_ffff_ffff_ffffn).u32be(LIBXC_ID).u32be(version).u16be(0).u16be(0).u32be(0);
}

/** The 16-byte domain header. */
export function writeDomainHeader(w: ByteWriter, h: Omit<LibxcHeader, "version">): ByteWriter {
  return w
    .u32le(u32(h.domainType, "domain type"))
    .u16le(h.pageShift)
    .u16le(0)
    .u32le(u32(h.xenMajor, "xen_major"))
    .u32le(u32(h.xenMinor, "xen_minor"));
}

/** Image header then domain header (what a writer sends first, in one write). */
export function writeLibxcHeader(w: ByteWriter, h: LibxcHeader): ByteWriter {
  return writeDomainHeader(writeImageHeader(w, h.version), h);
}

/** Body length of a PAGE_DATA record for these entries. */
export function pageDataLength(pages: readonly PageEntry[]): number {
  let n = 0;
  for (const p of pages) if (pageTypeHasData(p.type)) n++;
  return 8 + 8 * pages.length + PAGE_SIZE * n;
}

/**
 * The header of a PAGE_DATA record and its pfn array; the caller then writes
 * exactly one page per data-bearing entry (no padding is needed: the length is
 * a multiple of 8). Lets page contents stream from elsewhere without a copy.
 */
export function writePageDataHead(w: ByteWriter, pages: readonly PageEntry[]): ByteWriter {
  if (pages.length === 0) throw new MalformedError("PAGE_DATA needs at least one pfn", 0);
  const len = pageDataLength(pages);
  if (len > LIBXC_REC_LENGTH_MAX) throw new MalformedError(`PAGE_DATA of ${pages.length} pfns exceeds the 128 MiB record limit`, 0);
  w.u32le(0x01).u32le(len).u32le(pages.length).u32le(0);
  for (const p of pages) {
    if (!Number.isSafeInteger(p.pfn) || p.pfn < 0 || p.pfn >= 2 ** 52) throw new MalformedError("pfn: expected 0 ≤ pfn < 2^52", 0, { found: String(p.pfn) });
    const nib = pageTypeNibble(p.type);
    w.u32le(p.pfn % 0x1_0000_0000).u32le(((nib << 28) | Math.floor(p.pfn / 0x1_0000_0000)) >>> 0);
  }
  return w;
}

/** `pages`, when `data` holds exactly one page per data-bearing entry. */
function checkPageData(pages: readonly PageEntry[], data: Uint8Array): readonly PageEntry[] {
  let n = 0;
  for (const p of pages) if (pageTypeHasData(p.type)) n++;
  if (data.byteLength !== n * PAGE_SIZE) {
    throw new MalformedError(`PAGE_DATA: ${n} data-bearing pfns need ${n * PAGE_SIZE} bytes of data`, 0, { found: String(data.byteLength) });
  }
  return pages;
}

/**
 * A record to a sink through `w`; PAGE_DATA's contents go out as they are
 * after its head, never copied into `w` (encode's pages, a run per record).
 */
export async function putLibxcRecord(out: Pick<Sink, "write">, w: ByteWriter, rec: LibxcRecord): Promise<void> {
  if (rec.type !== "PAGE_DATA") {
    await out.write(writeLibxcRecord(w.reset(), rec).finish());
    return;
  }
  await out.write(writePageDataHead(w.reset(), checkPageData(rec.pages, rec.data)).finish());
  await out.write(rec.data);
}

function body(w: ByteWriter, type: number, fill: (w: ByteWriter) => void): ByteWriter {
  const at = w.length;
  w.u32le(type).u32le(0);
  fill(w);
  const len = w.length - at - 8;
  if (len > LIBXC_REC_LENGTH_MAX) throw new MalformedError(`record body of ${len} bytes exceeds the 128 MiB limit`, 0);
  w.setU32(at + 4, len, true);
  return w.zeros(padding8(len));
}

/** Append one record (header, body, zero padding). */
export function writeLibxcRecord(w: ByteWriter, rec: LibxcRecord): ByteWriter {
  switch (rec.type) {
    case "END":
    case "VERIFY":
    case "CHECKPOINT":
    case "STATIC_DATA_END":
      return w.u32le(LIBXC_CODES.get(rec.type)!).u32le(0);
    case "PAGE_DATA":
      return writePageDataHead(w, checkPageData(rec.pages, rec.data)).bytes(rec.data);
    case "X86_PV_INFO":
      return body(w, 0x02, (b) => b.u8(rec.guest_width).u8(rec.pt_levels).zeros(6));
    case "X86_PV_P2M_FRAMES":
      return body(w, 0x03, (b) => {
        b.u32le(u32(rec.start_pfn, "start_pfn")).u32le(u32(rec.end_pfn, "end_pfn"));
        for (const f of rec.frames) b.u64le(u64(f, "frame"));
      });
    case "X86_PV_VCPU_BASIC":
    case "X86_PV_VCPU_EXTENDED":
    case "X86_PV_VCPU_XSAVE":
    case "X86_PV_VCPU_MSRS":
      return body(w, LIBXC_CODES.get(rec.type)!, (b) => b.u32le(u32(rec.vcpu_id, "vcpu_id")).u32le(0).bytes(rec.context));
    case "SHARED_INFO":
    case "HVM_CONTEXT":
    case "TOOLSTACK":
      return writeRecord(w, LIBXC_CODES.get(rec.type)!, rec.data, true);
    case "X86_TSC_INFO":
      return body(w, 0x08, (b) =>
        b.u32le(u32(rec.mode, "mode")).u32le(u32(rec.khz, "khz")).u64le(u64(rec.nsec, "nsec")).u32le(u32(rec.incarnation, "incarnation")).u32le(0),
      );
    case "HVM_PARAMS":
      return body(w, 0x0a, (b) => {
        b.u32le(rec.params.length).u32le(0);
        for (const p of rec.params) b.u64le(u64(p.index, "param index")).u64le(u64(p.value, "param value"));
      });
    case "CHECKPOINT_DIRTY_PFN_LIST":
      return body(w, 0x0f, (b) => {
        for (const p of rec.pfns) b.u64le(u64(p, "pfn"));
      });
    case "X86_CPUID_POLICY":
      return body(w, 0x11, (b) => {
        for (const l of rec.leaves) {
          b.u32le(u32(l.leaf, "leaf")).u32le(u32(l.subleaf, "subleaf")).u32le(u32(l.a, "a")).u32le(u32(l.b, "b")).u32le(u32(l.c, "c")).u32le(u32(l.d, "d"));
        }
      });
    case "X86_MSR_POLICY":
      return body(w, 0x12, (b) => {
        for (const m of rec.msrs) b.u32le(u32(m.index, "msr index")).u32le(0).u64le(u64(m.value, "msr value"));
      });
    case "OPTIONAL":
      if (!(rec.code & 0x8000_0000)) throw new MalformedError(`OPTIONAL record code 0x${rec.code.toString(16)} lacks bit 31`, 0);
      return writeRecord(w, rec.code >>> 0, rec.body, true);
  }
}

/** One record as bytes (a copy; convenient outside hot paths). */
export function libxcRecordBytes(rec: LibxcRecord): Uint8Array {
  return writeLibxcRecord(new ByteWriter(64), rec).finish().slice();
}

/** A whole image in memory: headers, records (END is not added). */
export function writeLibxcImage(w: ByteWriter, header: LibxcHeader, records: readonly LibxcRecord[]): ByteWriter {
  writeLibxcHeader(w, header);
  for (const r of records) writeLibxcRecord(w, r);
  return w;
}
