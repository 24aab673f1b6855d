import {
  type JsonWriter,
  LimitError,
  MalformedError,
  type Sink,
  type StreamReader,
  TruncatedError,
  WireError,
  hex,
  padding8,
} from "@vmstream/framing";
import {
  LIBXC_ID,
  LIBXC_PAGE_SHIFT,
  LIBXC_PAGE_TYPES,
  LIBXC_RECORD_SCOPE,
  LIBXC_REC_LENGTH_MAX,
  LIBXC_VCPU_CONTEXT_SIZE,
} from "@vmstream/wire-spec";
import { be16, be32, firstNonZero, hex32, le32, le64 } from "./bytes.js";
import { type LibxcHeader, type LibxcRecord, type PageEntry, LIBXC_REC as REC, LIBXC_V3_ONLY, domainTypeName, libxcRecordName as recordName } from "./model.js";

/**
 * How much of each record to materialise:
 * - `verify`: check everything, build nothing, skip opaque blobs and page
 *   contents (a seek on files);
 * - `model`: build a LibxcRecord for every record, page contents included;
 * - `stream`: build records but leave PAGE_DATA contents unread so the caller
 *   can pipe them (`pipePages`) or skip them.
 */
export type LibxcReadMode = "verify" | "model" | "stream";

export interface LibxcRecordInfo {
  index: number;
  code: number;
  name: string;
  /** Body length (padding excluded). */
  length: number;
  /** Absolute offset of the record header. */
  offset: number;
  /** PAGE_DATA: pfn entries and data-bearing entries. */
  pfns: number;
  dataPages: number;
  /** Null in `verify` mode. In `stream` mode a PAGE_DATA record's `data` is empty until read. */
  record: LibxcRecord | null;
}

export interface LibxcReaderOptions {
  /** Inside a libxl stream: CHECKPOINT hands control back to the caller. */
  embedded?: boolean;
  /** Non-fatal remarks are appended here. */
  notes?: string[];
}

const EMPTY = new Uint8Array(0);
const PAGE = 1 << LIBXC_PAGE_SHIFT;
/** type nibble → data-bearing (1), no data (0), reserved (-1). */
const PAGE_KIND = Int8Array.from(LIBXC_PAGE_TYPES, (t) => (t === null ? -1 : t.data ? 1 : 0));
const PAGE_NAMES = LIBXC_PAGE_TYPES.map((t) => t?.name ?? "");
/** An entry's top byte (bits 56–63) → PAGE_KIND of its type nibble, or -1 when the type is reserved or bits 56–59 are set. */
const TOP_KIND = Int8Array.from({ length: 256 }, (_, t) => (t & 0x0f ? -1 : PAGE_KIND[t >>> 4]!));
const STATIC = new Set<number>([REC.X86_PV_INFO, REC.X86_CPUID_POLICY, REC.X86_MSR_POLICY]);
/** Records that carry memory or register content: STATIC_DATA_END must come first. */
const DYNAMIC = new Set<number>([
  REC.PAGE_DATA, REC.X86_PV_P2M_FRAMES, REC.X86_PV_VCPU_BASIC, REC.X86_PV_VCPU_EXTENDED, REC.X86_PV_VCPU_XSAVE,
  REC.SHARED_INFO, REC.X86_TSC_INFO, REC.HVM_CONTEXT, REC.HVM_PARAMS, REC.X86_PV_VCPU_MSRS, REC.VERIFY, REC.CHECKPOINT,
]);

/** Running totals, for inspect. */
export interface LibxcStats {
  records: number;
  pageRecords: number;
  pfns: number;
  dataPages: number;
  checkpoints: number;
}

/**
 * Reads a libxc image record by record from a StreamReader, checking every rule
 * of the spec plus the stricter checks of libxc's restore code (see
 * docs/spec/libxc.md). One reader serves verify, inspect, decode and recode.
 */
export class LibxcReader {
  header: LibxcHeader | null = null;
  /** Set once END has been read. */
  ended = false;
  /** Set when the last record was CHECKPOINT (a segment boundary). */
  atCheckpoint = false;
  readonly notes: string[];
  readonly stats: LibxcStats = { records: 0, pageRecords: 0, pfns: 0, dataPages: 0, checkpoints: 0 };
  private index = 0;
  private pending = 0;
  private pendingOffset = 0;
  private sde: "none" | "seen" | "inferred" = "none";
  private pvWidth = 0;
  private p2mEnd = -1;
  private vcpu0 = false;
  private readonly embedded: boolean;

  constructor(
    readonly r: StreamReader,
    opts: LibxcReaderOptions = {},
  ) {
    this.embedded = opts.embedded ?? false;
    this.notes = opts.notes ?? [];
  }

  /** Read and check the image and domain headers (40 bytes). */
  async readHeader(): Promise<LibxcHeader> {
    const r = this.r;
    const at = r.offset;
    if (r.buffered < 40 && !(await r.fill(40))) throw new TruncatedError("libxc image and domain headers", at, 40, r.buffered);
    const b = r.take(40);
    if (le32(b, 0) !== 0xffff_ffff || le32(b, 4) !== 0xffff_ffff) {
      throw new WireError("BAD_MAGIC", "bad image marker", at, { path: "image_header.marker", expected: "0xffffffffffffffff", found: hexBytes(b, 0, 8) });
    }
    const id = be32(b, 8);
    if (id !== LIBXC_ID) throw new WireError("BAD_MAGIC", "bad image id", at + 8, { path: "image_header.id", expected: hex(LIBXC_ID), found: hex(id) });
    const version = be32(b, 12);
    if (version !== 2 && version !== 3) {
      throw new WireError("UNSUPPORTED_VERSION", "unsupported libxc image version", at + 12, { path: "image_header.version", expected: "2 or 3", found: String(version) });
    }
    const options = be16(b, 16);
    if (options & 1) {
      throw new WireError("UNSUPPORTED_VERSION", "big-endian stream (options bit 0): Xen restores only little-endian images", at + 16, { path: "image_header.options" });
    }
    if (options) throw new WireError("RESERVED_BITS", "reserved image options bits set", at + 16, { path: "image_header.options", expected: "0", found: hex(options) });
    const nz = firstNonZero(b, 18, 24);
    if (nz >= 0) throw new WireError("RESERVED_BITS", "non-zero reserved field in the image header", at + nz, { path: "image_header.reserved" });
    const domainType = le32(b, 24);
    if (domainType !== 1 && domainType !== 2) {
      throw new MalformedError("unknown domain type", at + 24, { path: "domain_header.type", expected: "1 (x86 PV) or 2 (x86 HVM)", found: String(domainType) });
    }
    const pageShift = b[28]! | (b[29]! << 8);
    if (pageShift !== LIBXC_PAGE_SHIFT) {
      throw new MalformedError("unsupported page size", at + 28, { path: "domain_header.page_shift", expected: String(LIBXC_PAGE_SHIFT), found: String(pageShift) });
    }
    if (b[30] || b[31]) throw new WireError("RESERVED_BITS", "non-zero reserved field in the domain header", at + 30, { path: "domain_header.reserved" });
    const h: LibxcHeader = { version, domainType, pageShift, xenMajor: le32(b, 32), xenMinor: le32(b, 36) };
    this.header = h;
    return h;
  }

  /**
   * The next record, checked. Null when the stream ends cleanly at a record
   * boundary (the caller decides whether that end is allowed). Unconsumed page
   * contents of the previous record are skipped first.
   */
  async next(mode: LibxcReadMode): Promise<LibxcRecordInfo | null> {
    const r = this.r;
    if (!this.header) throw new Error("LibxcReader.readHeader() must come first");
    if (this.pending) await this.skipPages();
    const offset = r.offset;
    if (r.buffered < 8 && !(await r.fill(8))) {
      if (r.buffered === 0) return null;
      throw new TruncatedError("record header", offset, 8, r.buffered, { path: `record[${this.index}]` });
    }
    const hb = r.take(8);
    const info: LibxcRecordInfo = this.begin(newInfo(), le32(hb, 0), le32(hb, 4), offset);
    const { code, length } = info;
    let prefix: number;
    if (code === REC.PAGE_DATA) {
      if (length >= 16 && r.buffered < 8) await r.need(8, `${this.pathOf(info)} header`);
      prefix = this.pagePrefix(info, length >= 16 ? le32(r.peek(4), 0) : 0);
    } else prefix = prefixFor(code, length, mode);
    if (r.buffered < prefix) await r.need(prefix, `${this.pathOf(info)} body`);
    const rest = this.check(info, r.take(prefix), 0, mode);
    if (code === REC.PAGE_DATA) {
      this.pending = rest;
      this.pendingOffset = r.offset;
      if (mode === "model") (info.record as { data: Uint8Array }).data = await this.readPages();
    } else {
      if (rest) await r.skip(rest, `${this.pathOf(info)} body`);
      await this.padding(info);
    }
    this.count(info);
    return info;
  }

  /**
   * Verify, without awaiting, every whole record already buffered; stops at
   * END, at a record not wholly buffered, or when page contents are pending.
   * This is what makes small-record streams cheap: no promise per record.
   */
  drainVerify(): void {
    const r = this.r;
    if (this.pending || this.ended || !this.header || (this.embedded && this.atCheckpoint)) return;
    const avail = r.buffered;
    if (avail < 8) return;
    const win = r.peek(avail);
    const base = r.offset;
    const info = this.scratch;
    let p = 0;
    // Embedded in libxl, CHECKPOINT hands control back: stop there.
    while (!this.ended && !(this.embedded && this.atCheckpoint) && avail - p >= 8) {
      const code = le32(win, p);
      const length = le32(win, p + 4);
      const whole = 8 + length + padding8(length);
      if (whole > avail - p) break;
      this.begin(info, code, length, base + p);
      const prefix = code === REC.PAGE_DATA ? this.pagePrefix(info, length >= 16 ? le32(win, p + 8) : 0) : prefixFor(code, length, "verify");
      this.check(info, win, p + 8, "verify", prefix);
      const pad = padding8(length);
      if (pad) {
        const nz = firstNonZero(win, p + 8 + length, p + whole);
        if (nz >= 0) throw new WireError("NONZERO_PADDING", "non-zero record padding", base + nz, { path: this.pathOf(info), expected: "0x00", found: hex(win[nz]!, 2) });
      }
      this.count(info);
      p += whole;
    }
    if (p) r.take(p);
  }

  private readonly scratch: LibxcRecordInfo = newInfo();

  /** Record-level checks that need only the header: limit, known type, guest scope, static-data order. */
  private begin(info: LibxcRecordInfo, code: number, length: number, offset: number): LibxcRecordInfo {
    const h = this.header!;
    info.index = this.index;
    info.code = code;
    info.length = length;
    info.offset = offset;
    info.name = recordName(code);
    info.pfns = 0;
    info.dataPages = 0;
    info.record = null;
    if (length > LIBXC_REC_LENGTH_MAX) {
      throw new LimitError(`record body length ${length} exceeds libxc's 128 MiB limit`, offset + 4, { path: this.pathOf(info) });
    }
    this.index++;
    this.atCheckpoint = false;
    if (code & 0x8000_0000) return info;
    const scope = LIBXC_RECORD_SCOPE[code];
    if (scope === undefined) throw new WireError("UNKNOWN_MANDATORY_RECORD", `unknown mandatory record type ${hex32(code)}`, offset, { path: this.pathOf(info) });
    if (h.version === 2 && LIBXC_V3_ONLY.has(code)) this.fail(info, `${info.name} is defined from version 3 and cannot appear in a v2 stream`, offset);
    if (scope === "none") {
      this.fail(
        info,
        code === REC.TOOLSTACK
          ? "TOOLSTACK is deprecated and a restore fails on it"
          : "CHECKPOINT_DIRTY_PFN_LIST belongs to the COLO back channel, not to a saved or forward stream",
        offset,
      );
    }
    if ((scope === "pv" && h.domainType !== 1) || (scope === "hvm" && h.domainType !== 2)) {
      this.fail(info, `${info.name} is not valid in an ${domainTypeName(h.domainType)} stream`, offset);
    }
    if (h.version === 3) {
      if (this.sde === "none" && DYNAMIC.has(code)) this.fail(info, `${info.name} before STATIC_DATA_END`, offset, { expected: "STATIC_DATA_END first" });
      if (this.sde !== "none" && STATIC.has(code)) this.fail(info, `${info.name} after STATIC_DATA_END`, offset);
    } else if (this.sde === "none" && code === (h.domainType === 1 ? REC.X86_PV_P2M_FRAMES : REC.PAGE_DATA)) {
      this.sde = "inferred"; // v2: the spec's inference point
    }
    return info;
  }

  /** Bytes of a PAGE_DATA body needed to check it (header and pfn array), after checking the count. */
  private pagePrefix(info: LibxcRecordInfo, count: number): number {
    const { offset, length } = info;
    if (this.header!.domainType === 1 && this.p2mEnd < 0) this.fail(info, "PAGE_DATA before X86_PV_P2M_FRAMES", offset);
    if (length < 16) this.fail(info, "PAGE_DATA body must hold its header and at least one pfn", offset + 4, { expected: "at least 16", found: String(length) });
    if (count === 0) this.fail(info, "PAGE_DATA count must be at least 1", offset + 8, { found: "0" });
    if (count > (length - 8) / 8) {
      this.fail(info, `PAGE_DATA count ${count} needs more pfn entries than the body holds`, offset + 8, {
        expected: `at most ${Math.floor((length - 8) / 8)}`,
        found: String(count),
      });
    }
    return 8 + 8 * count;
  }

  /**
   * Check a record whose first `prefix` body bytes are at b[at…] (the whole
   * body in model modes); returns how many body bytes remain unread after the
   * prefix (page contents, or an opaque blob skipped in verify mode).
   */
  private check(info: LibxcRecordInfo, b: Uint8Array, at: number, mode: LibxcReadMode, prefix = b.byteLength - at): number {
    const { code, length, offset } = info;
    const bodyAt = offset + 8;
    const keep = mode !== "verify";
    if (code & 0x8000_0000) {
      this.notes.push(`offset ${offset}: optional record ${hex32(code)} (${length} bytes) carried but not interpreted`);
      if (keep) info.record = { type: "OPTIONAL", code, body: b.slice(at, at + length) };
      return length - prefix;
    }
    switch (code) {
      case REC.END:
      case REC.VERIFY:
      case REC.CHECKPOINT:
      case REC.STATIC_DATA_END:
        this.exact(info, 0);
        if (code === REC.STATIC_DATA_END) {
          if (this.sde !== "none") this.fail(info, "second STATIC_DATA_END", offset);
          this.sde = "seen";
        } else if (code === REC.END) {
          if (this.header!.version === 3 && this.sde === "none") this.fail(info, "END before STATIC_DATA_END: a v3 stream must carry one", offset);
          if (this.header!.domainType === 1 && !this.vcpu0) this.fail(info, "the stream ends without vcpu0's X86_PV_VCPU_BASIC state", offset);
          this.ended = true;
        } else if (code === REC.CHECKPOINT) {
          this.atCheckpoint = true;
          this.stats.checkpoints++;
        }
        if (keep) info.record = { type: info.name as "END" };
        return 0;
      case REC.PAGE_DATA:
        return this.pages(info, b, at, keep);
      case REC.X86_PV_INFO: {
        this.exact(info, 8);
        const width = b[at]!;
        const levels = b[at + 1]!;
        if (this.pvWidth) this.fail(info, "second X86_PV_INFO", offset);
        if (width !== 4 && width !== 8) this.fail(info, "guest width must be 4 or 8", bodyAt, { found: String(width) });
        if (levels !== 3 && levels !== 4) this.fail(info, "page-table levels must be 3 or 4", bodyAt + 1, { found: String(levels) });
        if ((width === 8) !== (levels === 4)) this.fail(info, "invalid guest width / page-table levels pair", bodyAt, { expected: "4/3 or 8/4", found: `${width}/${levels}` });
        this.reserved(info, b, at, 2, 8);
        this.pvWidth = width;
        if (keep) info.record = { type: "X86_PV_INFO", guest_width: width, pt_levels: levels };
        return 0;
      }
      case REC.X86_PV_P2M_FRAMES: {
        if (!this.pvWidth) this.fail(info, "X86_PV_P2M_FRAMES before X86_PV_INFO", offset);
        if (length < 8 || length % 8) this.fail(info, "X86_PV_P2M_FRAMES body must be 8 + 8·n bytes", offset + 4, { found: String(length) });
        const start = le32(b, at);
        const end = le32(b, at + 4);
        if (start > end) this.fail(info, "p2m_start_pfn exceeds p2m_end_pfn", bodyAt, { found: `${start} > ${end}` });
        const fpp = PAGE / this.pvWidth;
        const frames = Math.floor(end / fpp) + 1 - Math.floor(start / fpp);
        if (length !== 8 + 8 * frames) {
          this.fail(info, `X86_PV_P2M_FRAMES for pfns ${start}..${end} needs ${frames} frames`, offset + 4, { expected: String(8 + 8 * frames), found: String(length) });
        }
        if (end > this.p2mEnd) this.p2mEnd = end;
        if (keep) {
          const list: bigint[] = new Array(frames);
          for (let i = 0; i < frames; i++) list[i] = le64(b, at + 8 + 8 * i);
          info.record = { type: "X86_PV_P2M_FRAMES", start_pfn: start, end_pfn: end, frames: list };
        }
        return 0;
      }
      case REC.X86_PV_VCPU_BASIC:
      case REC.X86_PV_VCPU_EXTENDED:
      case REC.X86_PV_VCPU_XSAVE:
      case REC.X86_PV_VCPU_MSRS: {
        if (length < 8) this.fail(info, `${info.name} body must hold the 8-byte vcpu header`, offset + 4, { found: String(length) });
        if (this.p2mEnd < 0) this.fail(info, `${info.name} before X86_PV_P2M_FRAMES`, offset);
        const vcpu = le32(b, at);
        if (le32(b, at + 4)) throw new WireError("RESERVED_BITS", "non-zero reserved field in the vcpu header", bodyAt + 4, { path: this.pathOf(info) });
        const blob = length - 8;
        if (blob === 0) this.notes.push(`offset ${offset}: empty ${info.name} for vcpu ${vcpu} (tolerated, Errata 1)`);
        else if (code === REC.X86_PV_VCPU_BASIC) {
          const want = LIBXC_VCPU_CONTEXT_SIZE[this.pvWidth]!;
          if (blob !== want) this.fail(info, `vcpu context size for a ${this.pvWidth * 8}-bit guest`, offset + 4, { expected: String(8 + want), found: String(length) });
          if (vcpu === 0) this.vcpu0 = true;
        } else if (code === REC.X86_PV_VCPU_EXTENDED && blob > 128) this.fail(info, "extended vcpu context longer than 128 bytes", offset + 4, { found: String(length) });
        else if (code === REC.X86_PV_VCPU_XSAVE && blob < 16) this.fail(info, "xsave blob shorter than 16 bytes", offset + 4, { found: String(length) });
        else if (code === REC.X86_PV_VCPU_MSRS && blob % 16) this.fail(info, "MSR list must be a multiple of 16 bytes", offset + 4, { found: String(length) });
        if (keep) info.record = { type: info.name as "X86_PV_VCPU_BASIC", vcpu_id: vcpu, context: b.slice(at + 8, at + length) };
        return length - prefix;
      }
      case REC.SHARED_INFO:
      case REC.HVM_CONTEXT:
        if (code === REC.SHARED_INFO) {
          if (!this.pvWidth) this.fail(info, "SHARED_INFO before X86_PV_INFO", offset);
          this.exact(info, PAGE);
        } else if (length === 0) this.fail(info, "empty HVM_CONTEXT", offset + 4);
        if (keep) info.record = { type: info.name as "SHARED_INFO", data: b.slice(at, at + length) };
        return length - prefix;
      case REC.X86_TSC_INFO:
        this.exact(info, 24);
        this.reserved(info, b, at, 20, 24);
        if (keep) info.record = { type: "X86_TSC_INFO", mode: le32(b, at), khz: le32(b, at + 4), nsec: le64(b, at + 8), incarnation: le32(b, at + 16) };
        return 0;
      case REC.HVM_PARAMS: {
        if (length < 8) this.fail(info, "HVM_PARAMS body must hold its 8-byte header", offset + 4, { found: String(length) });
        const count = le32(b, at);
        this.reserved(info, b, at, 4, 8);
        if (length !== 8 + 16 * count) {
          this.fail(info, `HVM_PARAMS with ${count} entries must be ${8 + 16 * count} bytes`, offset + 4, { expected: String(8 + 16 * count), found: String(length) });
        }
        if (count === 0) this.notes.push(`offset ${offset}: empty HVM_PARAMS (tolerated, Errata 1)`);
        if (keep) {
          const params: Array<{ index: bigint; value: bigint }> = new Array(count);
          for (let i = 0, p = at + 8; i < count; i++, p += 16) params[i] = { index: le64(b, p), value: le64(b, p + 8) };
          info.record = { type: "HVM_PARAMS", params };
        }
        return 0;
      }
      case REC.X86_CPUID_POLICY: {
        if (length === 0 || length % 24) this.fail(info, "X86_CPUID_POLICY must be a non-zero multiple of 24 bytes", offset + 4, { found: String(length) });
        if (keep) {
          const leaves = [];
          for (let p = at; p < at + length; p += 24) {
            leaves.push({ leaf: le32(b, p), subleaf: le32(b, p + 4), a: le32(b, p + 8), b: le32(b, p + 12), c: le32(b, p + 16), d: le32(b, p + 20) });
          }
          info.record = { type: "X86_CPUID_POLICY", leaves };
        }
        return 0;
      }
      case REC.X86_MSR_POLICY: {
        if (length === 0 || length % 16) this.fail(info, "X86_MSR_POLICY must be a non-zero multiple of 16 bytes", offset + 4, { found: String(length) });
        for (let p = at; p < at + length; p += 16) {
          if (le32(b, p + 4)) {
            throw new WireError("RESERVED_BITS", "non-zero flags in an MSR policy entry", bodyAt + (p - at) + 4, { path: `${this.pathOf(info)}.msrs[${(p - at) / 16}]` });
          }
        }
        if (keep) {
          const msrs = [];
          for (let p = at; p < at + length; p += 16) msrs.push({ index: le32(b, p), value: le64(b, p + 8) });
          info.record = { type: "X86_MSR_POLICY", msrs };
        }
        return 0;
      }
      default:
        throw new WireError("UNKNOWN_MANDATORY_RECORD", `unhandled record type ${hex32(code)}`, offset, { path: this.pathOf(info) });
    }
  }

  /** The pfn array at b[at + 8 …]; returns the bytes of page contents that follow. */
  private pages(info: LibxcRecordInfo, b: Uint8Array, at: number, keep: boolean): number {
    const { offset, length } = info;
    const bodyAt = offset + 8;
    const count = le32(b, at);
    if (le32(b, at + 4)) throw new WireError("RESERVED_BITS", "non-zero reserved field in PAGE_DATA", bodyAt + 4, { path: this.pathOf(info) });
    const pfnAt = bodyAt + 8;
    const pvMax = this.header!.domainType === 1 ? this.p2mEnd : Infinity;
    let data = 0;
    const pages: PageEntry[] | null = keep ? new Array(count) : null;
    const first = at + 8;
    // Verify of an HVM stream: two bytes of each entry hold all it checks (the type nibble, bits 52–59), so a
    // short loop sums the data pages; the full loop runs only to name a fault. (1024 entries per record run
    // mostly before the JIT compiles the loop: a verify's seeks left this loop as its largest cost.)
    let i = 0;
    if (pages === null && pvMax === Infinity) {
      for (let p = first + 6; i < count; i++, p += 8) {
        const k = TOP_KIND[b[p + 1]!]!;
        if (k < 0 || b[p]! > 0x0f) break;
        data += k;
      }
      if (i < count) data = i = 0;
    }
    if (i === 0) for (let p = first; i < count; i++, p += 8) {
      const hi = b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24);
      const nib = hi >>> 28;
      const kind = PAGE_KIND[nib]!;
      if ((hi >>> 20) & 0xff) throw new WireError("RESERVED_BITS", `reserved bits 52–59 set in pfn[${i}]`, pfnAt + 8 * i, { path: `${this.pathOf(info)}.pfn[${i}]` });
      if (kind < 0) throw new MalformedError(`reserved page type ${hex(nib)} in pfn[${i}]`, pfnAt + 8 * i, { path: `${this.pathOf(info)}.pfn[${i}]` });
      data += kind;
      if (pages !== null || pvMax !== Infinity) {
        const pfn = (hi & 0xfffff) * 0x1_0000_0000 + le32(b, p);
        if (pfn > pvMax) {
          throw new MalformedError(`pfn[${i}] ${hex(pfn)} lies beyond the p2m (last pfn ${hex(pvMax)})`, pfnAt + 8 * i, { path: `${this.pathOf(info)}.pfn[${i}]` });
        }
        if (pages) pages[i] = { pfn, type: PAGE_NAMES[nib]! };
      }
    }
    const want = 8 + 8 * count + PAGE * data;
    if (length !== want) {
      this.fail(info, `PAGE_DATA length does not match its ${data} data-bearing pfn(s)`, offset + 4, { expected: String(want), found: String(length) });
    }
    info.pfns = count;
    info.dataPages = data;
    if (pages) info.record = { type: "PAGE_DATA", pages, data: EMPTY };
    return PAGE * data;
  }

  private pathOf(info: LibxcRecordInfo): string {
    return `record[${info.index}](${info.name})`;
  }

  private fail(info: LibxcRecordInfo, reason: string, at: number, d: { expected?: string; found?: string } = {}): never {
    throw new MalformedError(reason, at, { path: this.pathOf(info), ...d });
  }

  private exact(info: LibxcRecordInfo, n: number): void {
    if (info.length !== n) this.fail(info, `${info.name} body must be ${n} bytes`, info.offset + 4, { expected: String(n), found: String(info.length) });
  }

  /** Page contents of the PAGE_DATA record just returned: skipped (seek on files). */
  async skipPages(): Promise<void> {
    const n = this.pending;
    this.pending = 0;
    await this.r.skip(n, "PAGE_DATA page contents");
  }
  /** …copied into memory. */
  async readPages(): Promise<Uint8Array> {
    const n = this.pending;
    this.pending = 0;
    if (n === 0) return EMPTY;
    await this.r.need(n, "PAGE_DATA page contents");
    return this.r.take(n).slice();
  }
  /** …one page at a time, each a view of the input valid until the next (memory export); what is left is skipped by `next`. */
  async *eachPage(): AsyncGenerator<Uint8Array> {
    while (this.pending > 0) {
      await this.r.need(PAGE, "PAGE_DATA page contents");
      this.pending -= PAGE;
      yield this.r.take(PAGE);
    }
  }
  /** …as base64 into a document, encoded from views of the input (decode). */
  pagesBase64(w: JsonWriter): AsyncGenerator<Uint8Array> {
    const n = this.pending;
    this.pending = 0;
    return w.base64Of(this.r, n, "PAGE_DATA page contents");
  }
  /** …passed through to a sink in buffer-sized pieces. */
  async pipePages(sink: Pick<Sink, "write">): Promise<void> {
    const n = this.pending;
    this.pending = 0;
    await this.r.pipe(n, sink, "PAGE_DATA page contents");
  }
  /** Bytes of page contents not yet consumed, and where they start. */
  get pendingPages(): { bytes: number; offset: number } {
    return { bytes: this.pending, offset: this.pendingOffset };
  }

  /** Body bytes [from, to) must be zero; the body starts at b[at]. */
  private reserved(info: LibxcRecordInfo, b: Uint8Array, at: number, from: number, to: number): void {
    const nz = firstNonZero(b, at + from, at + to);
    if (nz >= 0) throw new WireError("RESERVED_BITS", "non-zero reserved field", info.offset + 8 + (nz - at), { path: this.pathOf(info), found: hex(b[nz]!, 2) });
  }

  private async padding(info: LibxcRecordInfo): Promise<void> {
    const pad = padding8(info.length);
    if (!pad) return;
    const at = this.r.offset;
    if (this.r.buffered < pad) await this.r.need(pad, `${this.pathOf(info)} padding`);
    const v = this.r.take(pad);
    const nz = firstNonZero(v, 0, pad);
    if (nz >= 0) throw new WireError("NONZERO_PADDING", "non-zero record padding", at + nz, { path: this.pathOf(info), expected: "0x00", found: hex(v[nz]!, 2) });
  }

  private readonly counts = new Float64Array(0x13);
  private optionals = 0;

  private count(info: LibxcRecordInfo): void {
    const s = this.stats;
    s.records++;
    if (info.code < 0x13) this.counts[info.code]!++;
    else this.optionals++;
    if (info.code === REC.PAGE_DATA) {
      s.pageRecords++;
      s.pfns += info.pfns;
      s.dataPages += info.dataPages;
    }
  }

  /** Records seen, by name. */
  get byType(): Map<string, number> {
    const m = new Map<string, number>();
    this.counts.forEach((n, code) => {
      if (n) m.set(recordName(code), n);
    });
    if (this.optionals) m.set("optional", this.optionals);
    return m;
  }
}

const newInfo = (): LibxcRecordInfo => ({ index: 0, code: 0, name: "", length: 0, offset: 0, pfns: 0, dataPages: 0, record: null });

/** Body bytes to hold in memory for checking (or keeping) a record other than PAGE_DATA. */
function prefixFor(code: number, length: number, mode: LibxcReadMode): number {
  if (mode !== "verify") return length;
  if (code & 0x8000_0000) return 0;
  switch (code) {
    case REC.X86_PV_VCPU_BASIC:
    case REC.X86_PV_VCPU_EXTENDED:
    case REC.X86_PV_VCPU_XSAVE:
    case REC.X86_PV_VCPU_MSRS:
      return Math.min(8, length);
    case REC.SHARED_INFO:
    case REC.HVM_CONTEXT:
    case REC.TOOLSTACK:
    case REC.CHECKPOINT_DIRTY_PFN_LIST:
      return 0;
    default:
      return length;
  }
}

function hexBytes(b: Uint8Array, from: number, to: number): string {
  let s = "0x";
  for (let i = from; i < to; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}
