import {
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
import { type LibxcHeader, type LibxcRecord, type PageEntry, REC, LIBXC_V3_ONLY, domainTypeName, recordName } from "./model.js";

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
  byType: Map<string, number>;
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
  readonly stats: LibxcStats = { records: 0, pageRecords: 0, pfns: 0, dataPages: 0, byType: new Map(), checkpoints: 0 };
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
    const h = this.header;
    if (!h) throw new Error("LibxcReader.readHeader() must come first");
    if (this.pending) await this.skipPages();
    const offset = r.offset;
    const index = this.index;
    if (r.buffered < 8 && !(await r.fill(8))) {
      if (r.buffered === 0) return null;
      throw new TruncatedError("record header", offset, 8, r.buffered, { path: `record[${index}]` });
    }
    const hb = r.take(8);
    const code = le32(hb, 0);
    const length = le32(hb, 4);
    const path = `record[${index}](${recordName(code)})`;
    if (length > LIBXC_REC_LENGTH_MAX) {
      throw new LimitError(`record body length ${length} exceeds libxc's 128 MiB limit`, offset + 4, { path });
    }
    this.index++;
    this.atCheckpoint = false;
    const info: LibxcRecordInfo = { index, code, name: recordName(code), length, offset, pfns: 0, dataPages: 0, record: null };
    const bodyAt = offset + 8;
    const fail = (reason: string, at = bodyAt, d: { expected?: string; found?: string } = {}): never => {
      throw new MalformedError(reason, at, { path, ...d });
    };
    const exact = (n: number) => {
      if (length !== n) fail(`${info.name} body must be ${n} bytes`, offset + 4, { expected: String(n), found: String(length) });
    };

    // Which records may appear at all, and where.
    if (code & 0x8000_0000) {
      this.notes.push(`offset ${offset}: optional record ${hex32(code)} (${length} bytes) carried but not interpreted`);
      if (mode === "verify") await r.skip(length, `${path} body`);
      else info.record = { type: "OPTIONAL", code, body: await this.body(length, path, true) };
      await this.padding(length, path);
      this.count(info);
      return info;
    }
    const scope = LIBXC_RECORD_SCOPE[code];
    if (scope === undefined) throw new WireError("UNKNOWN_MANDATORY_RECORD", `unknown mandatory record type ${hex32(code)}`, offset, { path });
    if (h.version === 2 && LIBXC_V3_ONLY.has(code)) fail(`${info.name} is defined from version 3 and cannot appear in a v2 stream`, offset);
    if (scope === "none") {
      fail(
        code === REC.TOOLSTACK
          ? "TOOLSTACK is deprecated and a restore fails on it"
          : "CHECKPOINT_DIRTY_PFN_LIST belongs to the COLO back channel, not to a saved or forward stream",
        offset,
      );
    }
    if ((scope === "pv" && h.domainType !== 1) || (scope === "hvm" && h.domainType !== 2)) {
      fail(`${info.name} is not valid in an ${domainTypeName(h.domainType)} stream`, offset);
    }
    if (h.version === 3) {
      if (this.sde === "none" && DYNAMIC.has(code)) fail(`${info.name} before STATIC_DATA_END`, offset, { expected: "STATIC_DATA_END first" });
      if (this.sde !== "none" && STATIC.has(code)) fail(`${info.name} after STATIC_DATA_END`, offset);
    } else if (this.sde === "none" && code === (h.domainType === 1 ? REC.X86_PV_P2M_FRAMES : REC.PAGE_DATA)) {
      this.sde = "inferred"; // v2: the spec's inference point
    }

    switch (code) {
      case REC.END:
      case REC.VERIFY:
      case REC.CHECKPOINT:
      case REC.STATIC_DATA_END: {
        exact(0);
        if (code === REC.STATIC_DATA_END) {
          if (this.sde !== "none") fail("second STATIC_DATA_END", offset);
          this.sde = "seen";
        } else if (code === REC.END) {
          if (h.version === 3 && this.sde === "none") fail("END before STATIC_DATA_END: a v3 stream must carry one", offset);
          if (h.domainType === 1 && !this.vcpu0) fail("the stream ends without vcpu0's X86_PV_VCPU_BASIC state", offset);
          this.ended = true;
        } else if (code === REC.CHECKPOINT) {
          this.atCheckpoint = true;
          this.stats.checkpoints++;
        }
        if (mode !== "verify") info.record = { type: info.name as "END" };
        break;
      }
      case REC.PAGE_DATA:
        await this.pageData(info, mode, path);
        break;
      case REC.X86_PV_INFO: {
        exact(8);
        const b = await this.body(8, path);
        const width = b[0]!;
        const levels = b[1]!;
        if (this.pvWidth) fail("second X86_PV_INFO", offset);
        if (width !== 4 && width !== 8) fail("guest width must be 4 or 8", bodyAt, { found: String(width) });
        if (levels !== 3 && levels !== 4) fail("page-table levels must be 3 or 4", bodyAt + 1, { found: String(levels) });
        if ((width === 8) !== (levels === 4)) fail("invalid guest width / page-table levels pair", bodyAt, { expected: "4/3 or 8/4", found: `${width}/${levels}` });
        this.reserved(b, 2, 8, bodyAt, path);
        this.pvWidth = width;
        if (mode !== "verify") info.record = { type: "X86_PV_INFO", guest_width: width, pt_levels: levels };
        break;
      }
      case REC.X86_PV_P2M_FRAMES: {
        if (!this.pvWidth) fail("X86_PV_P2M_FRAMES before X86_PV_INFO", offset);
        if (length < 8 || length % 8) fail("X86_PV_P2M_FRAMES body must be 8 + 8·n bytes", offset + 4, { found: String(length) });
        const b = await this.body(length, path);
        const start = le32(b, 0);
        const end = le32(b, 4);
        if (start > end) fail("p2m_start_pfn exceeds p2m_end_pfn", bodyAt, { found: `${start} > ${end}` });
        const fpp = PAGE / this.pvWidth;
        const frames = Math.floor(end / fpp) + 1 - Math.floor(start / fpp);
        if (length !== 8 + 8 * frames) fail(`X86_PV_P2M_FRAMES for pfns ${start}..${end} needs ${frames} frames`, offset + 4, { expected: String(8 + 8 * frames), found: String(length) });
        if (end > this.p2mEnd) this.p2mEnd = end;
        if (mode !== "verify") {
          const list: bigint[] = new Array(frames);
          for (let i = 0; i < frames; i++) list[i] = le64(b, 8 + 8 * i);
          info.record = { type: "X86_PV_P2M_FRAMES", start_pfn: start, end_pfn: end, frames: list };
        }
        break;
      }
      case REC.X86_PV_VCPU_BASIC:
      case REC.X86_PV_VCPU_EXTENDED:
      case REC.X86_PV_VCPU_XSAVE:
      case REC.X86_PV_VCPU_MSRS: {
        if (length < 8) fail(`${info.name} body must hold the 8-byte vcpu header`, offset + 4, { found: String(length) });
        if (this.p2mEnd < 0) fail(`${info.name} before X86_PV_P2M_FRAMES`, offset);
        const b = await this.body(8, path);
        const vcpu = le32(b, 0);
        if (le32(b, 4)) throw new WireError("RESERVED_BITS", "non-zero reserved field in the vcpu header", bodyAt + 4, { path });
        const blob = length - 8;
        if (blob === 0) this.notes.push(`offset ${offset}: empty ${info.name} for vcpu ${vcpu} (tolerated, Errata 1)`);
        else if (code === REC.X86_PV_VCPU_BASIC) {
          const want = LIBXC_VCPU_CONTEXT_SIZE[this.pvWidth]!;
          if (blob !== want) fail(`vcpu context size for a ${this.pvWidth * 8}-bit guest`, offset + 4, { expected: String(8 + want), found: String(length) });
          if (vcpu === 0) this.vcpu0 = true;
        } else if (code === REC.X86_PV_VCPU_EXTENDED && blob > 128) fail("extended vcpu context longer than 128 bytes", offset + 4, { found: String(length) });
        else if (code === REC.X86_PV_VCPU_XSAVE && blob < 16) fail("xsave blob shorter than 16 bytes", offset + 4, { found: String(length) });
        else if (code === REC.X86_PV_VCPU_MSRS && blob % 16) fail("MSR list must be a multiple of 16 bytes", offset + 4, { found: String(length) });
        if (mode === "verify") await r.skip(blob, `${path} body`);
        else info.record = { type: info.name as "X86_PV_VCPU_BASIC", vcpu_id: vcpu, context: await this.body(blob, path, true) };
        break;
      }
      case REC.SHARED_INFO:
      case REC.HVM_CONTEXT:
        if (code === REC.SHARED_INFO) {
          if (!this.pvWidth) fail("SHARED_INFO before X86_PV_INFO", offset);
          exact(PAGE);
        } else if (length === 0) fail("empty HVM_CONTEXT", offset + 4);
        if (mode === "verify") await r.skip(length, `${path} body`);
        else info.record = { type: info.name as "SHARED_INFO", data: await this.body(length, path, true) };
        break;
      case REC.X86_TSC_INFO: {
        exact(24);
        const b = await this.body(24, path);
        this.reserved(b, 20, 24, bodyAt, path);
        if (mode !== "verify") info.record = { type: "X86_TSC_INFO", mode: le32(b, 0), khz: le32(b, 4), nsec: le64(b, 8), incarnation: le32(b, 16) };
        break;
      }
      case REC.HVM_PARAMS: {
        if (length < 8) fail("HVM_PARAMS body must hold its 8-byte header", offset + 4, { found: String(length) });
        const head = await this.body(8, path);
        const count = le32(head, 0);
        this.reserved(head, 4, 8, bodyAt, path);
        if (length !== 8 + 16 * count) fail(`HVM_PARAMS with ${count} entries must be ${8 + 16 * count} bytes`, offset + 4, { expected: String(8 + 16 * count), found: String(length) });
        if (count === 0) this.notes.push(`offset ${offset}: empty HVM_PARAMS (tolerated, Errata 1)`);
        const b = await this.body(length - 8, path);
        if (mode !== "verify") {
          const params: Array<{ index: bigint; value: bigint }> = new Array(count);
          for (let i = 0; i < count; i++) params[i] = { index: le64(b, 16 * i), value: le64(b, 16 * i + 8) };
          info.record = { type: "HVM_PARAMS", params };
        }
        break;
      }
      case REC.X86_CPUID_POLICY: {
        if (length === 0 || length % 24) fail("X86_CPUID_POLICY must be a non-zero multiple of 24 bytes", offset + 4, { found: String(length) });
        const b = await this.body(length, path);
        if (mode !== "verify") {
          const leaves = [];
          for (let i = 0; i < length; i += 24) leaves.push({ leaf: le32(b, i), subleaf: le32(b, i + 4), a: le32(b, i + 8), b: le32(b, i + 12), c: le32(b, i + 16), d: le32(b, i + 20) });
          info.record = { type: "X86_CPUID_POLICY", leaves };
        }
        break;
      }
      case REC.X86_MSR_POLICY: {
        if (length === 0 || length % 16) fail("X86_MSR_POLICY must be a non-zero multiple of 16 bytes", offset + 4, { found: String(length) });
        const b = await this.body(length, path);
        for (let i = 0; i < length; i += 16) {
          if (le32(b, i + 4)) throw new WireError("RESERVED_BITS", "non-zero flags in an MSR policy entry", bodyAt + i + 4, { path: `${path}.msrs[${i / 16}]` });
        }
        if (mode !== "verify") {
          const msrs = [];
          for (let i = 0; i < length; i += 16) msrs.push({ index: le32(b, i), value: le64(b, i + 8) });
          info.record = { type: "X86_MSR_POLICY", msrs };
        }
        break;
      }
      default:
        throw new WireError("UNKNOWN_MANDATORY_RECORD", `unhandled record type ${hex32(code)}`, offset, { path });
    }
    if (code !== REC.PAGE_DATA) await this.padding(length, path);
    this.count(info);
    return info;
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
  /** …passed through to a sink in buffer-sized pieces. */
  async pipePages(sink: Sink): Promise<void> {
    const n = this.pending;
    this.pending = 0;
    await this.r.pipe(n, sink, "PAGE_DATA page contents");
  }
  /** Bytes of page contents not yet consumed, and where they start. */
  get pendingPages(): { bytes: number; offset: number } {
    return { bytes: this.pending, offset: this.pendingOffset };
  }

  private async pageData(info: LibxcRecordInfo, mode: LibxcReadMode, path: string): Promise<void> {
    const r = this.r;
    const { offset, length } = info;
    const bodyAt = offset + 8;
    const h = this.header!;
    if (h.domainType === 1 && this.p2mEnd < 0) throw new MalformedError("PAGE_DATA before X86_PV_P2M_FRAMES", offset, { path });
    if (length < 16) {
      throw new MalformedError("PAGE_DATA body must hold its header and at least one pfn", offset + 4, { path, expected: "at least 16", found: String(length) });
    }
    if (r.buffered < 8) await r.need(8, `${path} header`);
    const head = r.take(8);
    const count = le32(head, 0);
    if (le32(head, 4)) throw new WireError("RESERVED_BITS", "non-zero reserved field in PAGE_DATA", bodyAt + 4, { path });
    if (count === 0) throw new MalformedError("PAGE_DATA count must be at least 1", bodyAt, { path, found: "0" });
    if (count > (length - 8) / 8) {
      throw new MalformedError(`PAGE_DATA count ${count} needs more pfn entries than the body holds`, bodyAt, { path, expected: `at most ${Math.floor((length - 8) / 8)}`, found: String(count) });
    }
    const pfnBytes = 8 * count;
    if (r.buffered < pfnBytes) await r.need(pfnBytes, `${path} pfn array`);
    const pfns = r.take(pfnBytes);
    const pfnAt = bodyAt + 8;
    const pvMax = h.domainType === 1 ? this.p2mEnd : Infinity;
    let data = 0;
    const pages: PageEntry[] | null = mode === "verify" ? null : new Array(count);
    for (let i = 0, p = 0; i < count; i++, p += 8) {
      const hi = pfns[p + 4]! | (pfns[p + 5]! << 8) | (pfns[p + 6]! << 16) | (pfns[p + 7]! << 24);
      const nib = hi >>> 28;
      const kind = PAGE_KIND[nib]!;
      if ((hi >>> 20) & 0xff) throw new WireError("RESERVED_BITS", `reserved bits 52–59 set in pfn[${i}]`, pfnAt + p, { path: `${path}.pfn[${i}]` });
      if (kind < 0) throw new MalformedError(`reserved page type ${hex(nib)} in pfn[${i}]`, pfnAt + p, { path: `${path}.pfn[${i}]` });
      data += kind;
      if (pages !== null || pvMax !== Infinity) {
        const pfn = (hi & 0xfffff) * 0x1_0000_0000 + le32(pfns, p);
        if (pfn > pvMax) throw new MalformedError(`pfn[${i}] ${hex(pfn)} lies beyond the p2m (last pfn ${hex(pvMax)})`, pfnAt + p, { path: `${path}.pfn[${i}]` });
        if (pages) pages[i] = { pfn, type: PAGE_NAMES[nib]! };
      }
    }
    const want = 8 + pfnBytes + PAGE * data;
    if (length !== want) {
      throw new MalformedError(`PAGE_DATA length does not match its ${data} data-bearing pfn(s)`, offset + 4, { path, expected: String(want), found: String(length) });
    }
    info.pfns = count;
    info.dataPages = data;
    this.pending = PAGE * data;
    this.pendingOffset = r.offset;
    if (pages) {
      info.record = { type: "PAGE_DATA", pages, data: EMPTY };
      if (mode === "model") info.record.data = await this.readPages();
    }
  }

  /** Read `n` body bytes; `copy` when the view must outlive the next read. */
  private async body(n: number, path: string, copy = false): Promise<Uint8Array> {
    if (n === 0) return EMPTY;
    if (this.r.buffered < n) await this.r.need(n, `${path} body`);
    const v = this.r.take(n);
    return copy ? v.slice() : v;
  }

  private reserved(b: Uint8Array, from: number, to: number, base: number, path: string): void {
    const nz = firstNonZero(b, from, to);
    if (nz >= 0) throw new WireError("RESERVED_BITS", "non-zero reserved field", base + nz, { path, found: hex(b[nz]!, 2) });
  }

  private async padding(length: number, path: string): Promise<void> {
    const pad = padding8(length);
    if (!pad) return;
    const at = this.r.offset;
    if (this.r.buffered < pad) await this.r.need(pad, `${path} padding`);
    const v = this.r.take(pad);
    const nz = firstNonZero(v, 0, pad);
    if (nz >= 0) throw new WireError("NONZERO_PADDING", "non-zero record padding", at + nz, { path, expected: "0x00", found: hex(v[nz]!, 2) });
  }

  private count(info: LibxcRecordInfo): void {
    const s = this.stats;
    s.records++;
    s.byType.set(info.name, (s.byType.get(info.name) ?? 0) + 1);
    if (info.code === REC.PAGE_DATA) {
      s.pageRecords++;
      s.pfns += info.pfns;
      s.dataPages += info.dataPages;
    }
  }
}

function hexBytes(b: Uint8Array, from: number, to: number): string {
  let s = "0x";
  for (let i = from; i < to; i++) s += b[i]!.toString(16).padStart(2, "0");
  return s;
}
