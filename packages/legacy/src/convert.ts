import {
  ByteWriter,
  LimitError,
  RefusedError,
  TruncatedError,
  padding8,
  writeRecord,
  type CodecOptions,
  type FormatId,
  type Sink,
  type Source,
  StreamReader,
} from "@vmstream/framing";
import { LIBXC_REC as REC, LIBXL_REC, XL_FLAG_STREAMV2, writeDomainHeader, writeImageHeader, writeLibxlHeader, writeXlFixedHeader } from "@vmstream/libxl";
import { LEGACY_FILLER_PFN, LEGACY_HVM_TAIL_PARAMS, LEGACY_MAX_BATCH, LEGACY_VCPU_CONTEXT_SIZES, LIBXC_REC_LENGTH_MAX } from "@vmstream/wire-spec";
import { MAX_TOOLSTACK_BLOB, parsePhysmap, physmapPairs } from "./physmap.js";
import { LegacyWalk, openLegacy, ulongSize, type LegacyItem, type LegacyShape } from "./reader.js";

/** The image-header version convert-legacy-stream writes (with STATIC_DATA_END and no CPUID/MSR policy). */
export const CONVERTED_LIBXC_VERSION = 3;
/** Domain-header xen_major 0 marks a converted image; xen_minor is the converter's own version. */
const CONVERTER_VERSION = 1;
/**
 * The output block: page data is read straight into it and written from it.
 * 1 MiB (plus room for headers and the read-ahead of the next one), not a
 * whole 4 MiB batch: a block that stays in the CPU's cache between the read
 * that fills it and the write that empties it halved the conversion's CPU
 * time (median 983 → 412 ms for 513 MiB, scripts/bench/performance-notes.md),
 * and it costs a quarter of the page faults to touch first.
 */
const OUT_BLOCK = (1 << 20) + (64 << 10);
/** A payload at least this large is bulk: what follows it is usually a header and more bulk. */
const BULK = 1 << 20;
/** After bulk, the next refill reads only this much: the header, not the next payload too. */
const LEAN_READ = 16 << 10;
/** Chunk of the conversion's own reader: refills between small records, never page data. */
const LEAN_CHUNK = 1 << 20;
/** Collected HVM params beyond this are not a real image (there are 11 kinds). */
const MAX_PARAMS = 1 << 16;

export type LegacyTarget = "libxc" | "libxl" | "xl";

export interface ConvertReport {
  /** Everything the input held that the output does not carry, and why. */
  notes: string[];
  pages: number;
  batches: number;
  records: number;
}

/** Which output layering a FormatId asks for. */
export function targetOf(to: FormatId): LegacyTarget | null {
  if (to.family === "libxc" && (to.version === "2" || to.version === "3")) return "libxc";
  if (to.family === "libxl" && to.version === "2") return "libxl";
  if (to.family === "xl" && to.version === "1") return "xl";
  return null;
}

/**
 * Gathers the output in one block: small records through `w`, bulk payloads
 * read by the source straight into the block, so page data is copied in user
 * space only where the sink copies it. A sink is done with a chunk when its
 * write resolves, so the one block is reused at once; a write-behind sink
 * keeps the disk busy meanwhile.
 */
class Out {
  readonly w = new ByteWriter(1 << 16);
  records = 0;
  private block: Uint8Array | null = null;
  private used = 0;
  constructor(
    private readonly sink: Sink,
    private readonly lean: LeanSource | null,
    /** OUT_BLOCK, or less for a small input: no payload is larger than the input. */
    private readonly blockSize = OUT_BLOCK,
  ) {}
  private room(): Uint8Array {
    return (this.block ??= new Uint8Array(this.blockSize));
  }
  private async send(): Promise<void> {
    const v = this.room().subarray(0, this.used);
    this.used = 0;
    await this.sink.write(v);
  }
  /** Move what `w` holds into the block. */
  async flush(): Promise<void> {
    const v = this.w.finish();
    for (let off = 0; off < v.length; ) {
      const k = Math.min(v.length - off, this.blockSize - this.used);
      this.room().set(v.subarray(off, off + k), this.used);
      this.used += k;
      off += k;
      if (this.used === this.blockSize) await this.send();
    }
    this.w.reset();
  }
  /** Flush, and hand the sink everything. */
  async drain(): Promise<void> {
    await this.flush();
    if (this.used > 0) await this.send();
  }
  async maybeFlush(): Promise<void> {
    if (this.w.length >= 1 << 18) await this.flush();
  }
  record(type: number, body: Uint8Array): void {
    writeRecord(this.w, type, body, true);
    this.records++;
  }
  /** Pass `n` bytes from the reader to the sink, read into the block where they belong. */
  async pipe(r: StreamReader, n: number, what: string): Promise<void> {
    await this.flush();
    // Whatever follows is read straight into the block, in full.
    if (this.lean) this.lean.afterBulk = false;
    const at = r.offset;
    let done = 0;
    while (done < n) {
      // A payload that a fresh block holds is not split over two reads; a larger one fills every block it passes through.
      const room = this.blockSize - this.used;
      if (this.used > 0 && room < n - done && (n - done <= this.blockSize || room === 0)) await this.send();
      const k = Math.min(n - done, this.blockSize - this.used);
      if (this.lean) this.lean.spare = this.blockSize - this.used - k;
      try {
        await r.readInto(this.room().subarray(this.used, this.used + k), what);
      } catch (e) {
        // Report the whole payload, not the piece of it that ran short.
        if (e instanceof TruncatedError) throw new TruncatedError(what, at, n, done + e.available);
        throw e;
      } finally {
        if (this.lean) this.lean.spare = 0;
      }
      this.used += k;
      done += k;
    }
    if (n >= BULK && this.lean) this.lean.afterBulk = true;
  }
  /** A record whose body is `head` then `n` bytes piped from `r`, then padding. */
  async recordPiped(type: number, head: Uint8Array, r: StreamReader, n: number, what: string): Promise<void> {
    const len = head.length + n;
    if (len > 0xffff_ffff) throw new LimitError(`${what} of ${n} bytes does not fit a record`, r.offset);
    this.w.u32le(type).u32le(len).bytes(head);
    await this.pipe(r, n, what);
    this.w.zeros(padding8(len));
    this.records++;
  }
}

/**
 * The input as seen by the conversion's own reader, for a file read from its
 * start. The caller's reader reads ahead a whole chunk whenever a header needs
 * a few bytes, so nearly all of the next batch's pages would land in its
 * buffer and be copied out again. Here pages are read by the file straight
 * into the output block, and the same read takes the next LEAN_READ bytes
 * (the next batch header) into the block's free room, from where they are
 * kept for the next refill: one read per batch, pages never copied.
 */
class LeanSource implements Source {
  /** Bulk was piped without reading past it: the next refill reads only a header's worth. */
  afterBulk = false;
  /** Free bytes in the output block after the piece being read straight into it (0 otherwise). */
  spare = 0;
  private readonly ahead = new Uint8Array(LEAN_READ);
  private aheadStart = 0;
  private aheadEnd = 0;
  constructor(private readonly r: StreamReader) {}
  get size(): number {
    return this.r.size!;
  }
  async read(into: Uint8Array): Promise<number> {
    if (this.aheadEnd > this.aheadStart) {
      const k = Math.min(into.byteLength, this.aheadEnd - this.aheadStart);
      into.set(this.ahead.subarray(this.aheadStart, this.aheadStart + k));
      this.aheadStart += k;
      // The header after the bulk is here already.
      this.afterBulk = false;
      return k;
    }
    const left = this.size - this.r.offset;
    let n = Math.min(into.byteLength, left);
    if (this.afterBulk) {
      this.afterBulk = false;
      n = Math.min(n, LEAN_READ);
    }
    if (n <= 0) return 0;
    const extra = Math.min(this.spare, LEAN_READ, left - n);
    this.spare = 0;
    const span = new Uint8Array(into.buffer, into.byteOffset, n + extra);
    let got = span.length;
    try {
      await this.r.readInto(span);
    } catch (e) {
      // The file ends before its size said (cut while being read): hand over
      // what came, and let the conversion's reader name what is missing.
      if (!(e instanceof TruncatedError)) throw e;
      got = e.available;
    }
    if (got > n) {
      this.ahead.set(span.subarray(n, got));
      this.aheadStart = 0;
      this.aheadEnd = got - n;
    }
    return Math.min(got, n);
  }
  async seek(n: number): Promise<number> {
    const k = Math.min(n, this.aheadEnd - this.aheadStart);
    this.aheadStart += k;
    const more = Math.max(0, Math.min(n - k, this.size - this.r.offset));
    await this.r.skip(more);
    return k + more;
  }
}

const le32 = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(v.length * 4);
  const dv = new DataView(b.buffer);
  v.forEach((x, i) => dv.setUint32(i * 4, x, true));
  return b;
};

/**
 * Convert a legacy image to migration v2, writing exactly what Xen's
 * convert-legacy-stream writes for the same input and flags, except where
 * that tool is wrong (docs/spec/legacy.md): width/guest mismatches and xl
 * input are handled instead of producing garbage, and a batch holding only
 * filler entries produces no empty PAGE_DATA.
 */
export async function convertLegacy(
  r: StreamReader,
  version: string,
  to: FormatId,
  sink: Sink,
  opts: CodecOptions = {},
): Promise<ConvertReport> {
  const target = targetOf(to);
  if (!target) throw new RefusedError(`legacy images convert to libxc@3, libxl@2 or xl@1, not ${to.family}@${to.version}`);
  const shape = await openLegacy(r, version, opts);
  if (shape.xl && target !== "xl") {
    throw new RefusedError(
      `the input is an xl save file; converting it to ${to.family} would drop its xl header and domain configuration: convert to xl@1`,
      0,
    );
  }
  // Errors carry the inner reader's offsets, which are absolute only from the stream's start.
  const lean = r.offset === 0 && r.size !== undefined ? new LeanSource(r) : null;
  // A small input (the matrix converts thousands of them) gets buffers its size, not 5 MiB of zeros each.
  const small = r.size !== undefined && r.size < LEAN_CHUNK ? r.size : null;
  const input = lean ? new StreamReader(lean, { chunkSize: small === null ? LEAN_CHUNK : Math.max(16, small) }) : r;
  return convertInto(input, shape, target, new Out(sink, lean, small === null ? OUT_BLOCK : small + (64 << 10)));
}

/**
 * The conversion, one method per section of the legacy image in the order
 * its bytes come; each reads its section from the walk and writes the v2
 * records it becomes.
 */
async function convertInto(r: StreamReader, shape: LegacyShape, target: LegacyTarget, out: Out): Promise<ConvertReport> {
  const walk = new LegacyWalk(r, shape);
  const c = new Conversion(r, shape, target, out);
  if (target === "xl") await c.xlHeader(shape.xl ? walk.xlHeader() : null);
  await c.imageHeader(walk.imageHeader());
  if (shape.guest === "pv") await c.extendedInfo(walk.extendedInfo(), walk.p2mSize);
  await c.body(walk.body());
  if (shape.guest === "hvm") await c.hvmTail(walk.hvmTail());
  else await c.pvTail(walk.pvTail());
  await walk.end();
  return c.finish();
}

class Conversion {
  private readonly w: ByteWriter;
  private readonly libxl: boolean;
  private readonly notes: string[] = [];
  private readonly report: ConvertReport;
  private readonly ul: 4 | 8;
  /** HVM_PARAMS entries gathered from the body's parameter chunks. */
  private readonly params = new ByteWriter(256);
  private nParams = 0;
  /** EMULATOR_XENSTORE_DATA key/value pairs from the toolstack blob's physmap. */
  private xenstore = new ByteWriter(256);
  private hasKv = false;
  private sawQemu = false;
  // Counted rather than noted one by one: a hostile image may repeat them millions of times.
  private fillerOnly = 0;
  private discardedToolstack = 0;
  private xsaveMasks = 0;
  private readonly markers = new Map<string, number>();
  /** A PAGE_DATA record's pfn entries, built before they are written (a batch has at most LEGACY_MAX_BATCH). */
  private readonly entryBytes = new Uint8Array(8 * LEGACY_MAX_BATCH);
  private readonly entries = new DataView(this.entryBytes.buffer);

  constructor(
    private readonly r: StreamReader,
    private readonly shape: LegacyShape,
    target: LegacyTarget,
    private readonly out: Out,
  ) {
    this.w = out.w;
    this.libxl = target !== "libxc";
    this.report = { notes: this.notes, pages: 0, batches: 0, records: 0 };
    this.ul = ulongSize(shape.width);
  }

  /** xl output: the input's xl header with STREAMv2 set and its optional data, or a minimal one (no configuration). */
  async xlHeader(section: AsyncIterable<LegacyItem> | null): Promise<void> {
    if (!section) {
      writeXlFixedHeader(this.w, { mandatoryFlags: XL_FLAG_STREAMV2, optionalFlags: 0, optionalLength: 0 });
      return;
    }
    for await (const it of section) {
      if (it.kind !== "xl") continue;
      writeXlFixedHeader(this.w, { byteorder: it.byteorder, mandatoryFlags: it.mandatoryFlags | XL_FLAG_STREAMV2, optionalFlags: it.optionalFlags, optionalLength: it.payload });
      await this.out.pipe(this.r, it.payload, "xl optional data");
    }
  }

  /** p2m_size: the libxl header and LIBXC_CONTEXT (libxl, xl), the libxc image and domain headers. */
  async imageHeader(section: AsyncIterable<LegacyItem>): Promise<void> {
    for await (const it of section) {
      if (it.kind !== "p2m_size") continue;
      const { w, out } = this;
      if (this.libxl) {
        writeLibxlHeader(w, { legacy: true });
        out.record(LIBXL_REC.LIBXC_CONTEXT, EMPTY);
      }
      writeImageHeader(w, CONVERTED_LIBXC_VERSION);
      writeDomainHeader(w, { domainType: this.shape.guest === "pv" ? 1 : 2, pageShift: 12, xenMajor: 0, xenMinor: CONVERTER_VERSION });
      // An HVM image has no static data beyond the headers.
      if (this.shape.guest === "hvm") out.record(REC.STATIC_DATA_END, EMPTY);
      await out.maybeFlush();
    }
  }

  /** PV: the vcpu block names the guest's width (X86_PV_INFO); the p2m frame list widens to u64 (X86_PV_P2M_FRAMES). */
  async extendedInfo(section: AsyncIterable<LegacyItem>, p2mSize: number): Promise<void> {
    const { w, out, r, ul } = this;
    for await (const it of section) {
      if (it.kind === "ext_block" && it.id === "vcpu") {
        const g = LEGACY_VCPU_CONTEXT_SIZES[it.payload]!;
        out.record(REC.X86_PV_INFO, new Uint8Array([g.width, g.levels, 0, 0, 0, 0, 0, 0]));
      } else if (it.kind === "p2m_frames") {
        out.record(REC.STATIC_DATA_END, EMPTY);
        const len = 8 + 8 * it.count;
        if (len > LIBXC_REC_LENGTH_MAX) throw new LimitError(`p2m frame list of ${it.count} frames exceeds a libxc record`, it.offset);
        w.u32le(REC.X86_PV_P2M_FRAMES).u32le(len).u32le(0).u32le(p2mSize - 1);
        // Widen each native ulong to u64, in pieces.
        let left = it.count;
        while (left > 0) {
          const n = Math.min(left, 8192);
          const a = await r.read(n * ul, "p2m frame list");
          for (let i = 0; i < n; i++) {
            if (ul === 4) w.u32le(a.u32le()).u32le(0);
            else w.bytes(a.bytesView(8));
          }
          left -= n;
          await out.maybeFlush();
        }
        out.records++;
      }
      await out.maybeFlush();
    }
  }

  /** Body chunks: page batches become PAGE_DATA (pages piped), the rest records, notes or refusals. */
  async body(section: AsyncIterable<LegacyItem>): Promise<void> {
    const { w, out } = this;
    for await (const it of section) {
      switch (it.kind) {
        case "batch":
          await this.pageBatch(it);
          break;
        case "tsc_info":
          w.u32le(REC.X86_TSC_INFO).u32le(24).u32le(it.mode).u32le(it.khz).u64le(it.nsec).u32le(it.incarnation).u32le(0);
          out.records++;
          break;
        case "hvm_param":
          if (++this.nParams > MAX_PARAMS) throw new LimitError(`more than ${MAX_PARAMS} HVM parameter chunks`, it.offset);
          this.params.u64le(it.index).u64le(it.value);
          break;
        case "vcpu_info":
          if (this.shape.guest === "hvm") this.notes.push("vcpu_info chunk not carried: an HVM guest's vcpus are in HVM_CONTEXT");
          break;
        case "marker":
          if (it.id === -13) throw new RefusedError("compressed (Remus format B) images cannot be converted", it.offset);
          this.markers.set(it.name, (this.markers.get(it.name) ?? 0) + 1);
          break;
        case "compressed_data":
          throw new RefusedError("compressed (Remus format B) images cannot be converted", it.offset);
        case "toolstack":
          await this.toolstack(it.payload, it.offset);
          break;
        case "end":
          if (this.nParams > 0) {
            w.u32le(REC.HVM_PARAMS).u32le(8 + this.params.length).u32le(this.nParams).u32le(0).bytes(this.params.finish());
            out.records++;
          }
          break;
      }
      await out.maybeFlush();
    }
  }

  /** PAGE_DATA for a batch: filler entries dropped, type nibbles moved up, pages piped straight through. */
  private async pageBatch(it: Extract<LegacyItem, { kind: "batch" }>): Promise<void> {
    const { w, out, report } = this;
    const kept = it.count - it.fillers;
    report.batches++;
    if (kept === 0) {
      this.fillerOnly++;
      return;
    }
    const len = 8 + 8 * kept + it.payload;
    w.u32le(REC.PAGE_DATA).u32le(len).u32le(kept).u32le(0);
    // Built in a scratch array and written as one run: two writer calls per entry cost more than the entries.
    const e = this.entries;
    let o = 0;
    for (let i = 0; i < it.count; i++) {
      const v = it.pfns[i]!;
      if (v === LEGACY_FILLER_PFN) continue;
      // Type nibble moves from bits 31–28 to 63–60; the pfn keeps bits 27–0.
      e.setUint32(o, v & 0x0fff_ffff, true);
      e.setUint32(o + 4, (v & 0xf000_0000) >>> 0, true);
      o += 8;
    }
    w.bytes(this.entryBytes.subarray(0, o));
    report.pages += it.dataPages;
    out.records++;
    if (it.payload > 0) await out.pipe(this.r, it.payload, "page data");
  }

  /** The toolstack blob: its physmap becomes EMULATOR_XENSTORE_DATA keys (libxl output); libxc has no place for it. */
  private async toolstack(size: number, offset: number): Promise<void> {
    if (!this.libxl) {
      this.discardedToolstack += size;
      return;
    }
    if (size === 0) return;
    if (size > MAX_TOOLSTACK_BLOB) throw new LimitError(`toolstack blob of ${size} bytes`, offset + 4);
    const at = this.r.offset;
    const blob = (await this.r.read(size, "toolstack blob")).bytesView(size);
    const entries = parsePhysmap(blob, this.shape.width, at);
    if (entries.length && this.shape.guest === "pv") {
      // convert-legacy-stream writes EMULATOR_XENSTORE_DATA anyway, which libxl refuses for a PV guest.
      throw new RefusedError("physmap entries in a PV image: a PV guest has no device model to carry them to", at);
    }
    for (const e of entries) {
      for (const [k, v] of physmapPairs(e)) {
        this.xenstore.bytes(Uint8Array.from(k, (c) => c.charCodeAt(0))).u8(0).bytes(v).u8(0);
        this.hasKv = true;
        if (this.xenstore.length > MAX_TOOLSTACK_BLOB) throw new LimitError(`physmap keys beyond ${MAX_TOOLSTACK_BLOB} bytes`, at);
      }
    }
  }

  /** HVM tail: the magic pfns become HVM_PARAMS, the context HVM_CONTEXT and the libxc END; then the QEMU record. */
  async hvmTail(section: AsyncIterable<LegacyItem>): Promise<void> {
    const { w, out, r } = this;
    for await (const it of section) {
      if (it.kind === "hvm_magic") {
        const [io, bufio, store] = LEGACY_HVM_TAIL_PARAMS;
        w.u32le(REC.HVM_PARAMS).u32le(56).u32le(3).u32le(0);
        w.u64le(io).u64le(it.ioreq).u64le(bufio).u64le(it.bufioreq).u64le(store).u64le(it.store);
        out.records++;
      } else if (it.kind === "hvm_context") {
        if (it.payload > LIBXC_REC_LENGTH_MAX) {
          throw new LimitError(`HVM context of ${it.payload} bytes exceeds libxc's ${LIBXC_REC_LENGTH_MAX}-byte record limit`, it.offset);
        }
        await out.recordPiped(REC.HVM_CONTEXT, EMPTY, r, it.payload, "HVM context");
        out.record(REC.END, EMPTY);
      } else if (it.kind === "qemu") {
        await this.qemu(it);
      }
      await out.maybeFlush();
    }
  }

  /** The QEMU record: EMULATOR_CONTEXT (libxl), or kept verbatim after the libxc END. */
  private async qemu(it: Extract<LegacyItem, { kind: "qemu" }>): Promise<void> {
    const { w, out, r, notes } = this;
    this.sawQemu = true;
    // QemuDeviceModelRecord runs to the end of the stream: its length is known only from the input's size.
    let size = it.payload;
    if (!it.sized) {
      if (r.size === undefined) {
        throw new RefusedError(`QEMU record "${it.signature}" runs to the end of an input of unknown size; convert from a file`, it.offset);
      }
      size = r.size - r.offset;
      notes.push(`QEMU record "${it.signature}" (data to the end of the image, ${size} bytes) converted; convert-legacy-stream cannot`);
    } else if (it.signature !== "DeviceModelRecord0002") {
      notes.push(`QEMU record "${it.signature}" converted like DeviceModelRecord0002 (same layout); convert-legacy-stream cannot`);
    }
    if (this.hasKv) {
      writeEmulatorKv(out, this.xenstore);
      this.xenstore = new ByteWriter(16);
      this.hasKv = false;
    }
    if (this.libxl) {
      if (size > 0xffff_ffff - 8) throw new LimitError(`QEMU record of ${size} bytes does not fit a record`, it.offset + 21);
      await out.recordPiped(LIBXL_REC.EMULATOR_CONTEXT, le32(0, 0), r, size, "QEMU record");
    } else {
      // libxc output carries the legacy QEMU record verbatim after END.
      w.bytes(Uint8Array.from(it.signature, (c) => c.charCodeAt(0)));
      if (it.sized) w.u32le(size);
      await out.pipe(r, size, "QEMU record");
    }
  }

  /** PV tail: the unmapped pfns are dropped; vcpu contexts and the shared info page become records, then the libxc END. */
  async pvTail(section: AsyncIterable<LegacyItem>): Promise<void> {
    const { out, r } = this;
    for await (const it of section) {
      switch (it.kind) {
        case "unmapped":
          if (it.count) this.notes.push(`${it.count} "unmapped" pfns in the PV tail discarded (bogus by design)`);
          break;
        case "vcpu_basic":
          await out.recordPiped(REC.X86_PV_VCPU_BASIC, le32(it.vcpu, 0), r, it.payload, "vcpu context");
          break;
        case "vcpu_extended":
          await out.recordPiped(REC.X86_PV_VCPU_EXTENDED, le32(it.vcpu, 0), r, it.payload, "extended vcpu context");
          break;
        case "vcpu_xsave":
          await out.recordPiped(REC.X86_PV_VCPU_XSAVE, le32(it.vcpu, 0), r, it.payload, "xsave state");
          this.xsaveMasks++;
          break;
        case "shared_info":
          await out.recordPiped(REC.SHARED_INFO, EMPTY, r, it.payload, "shared info");
          out.record(REC.END, EMPTY);
          break;
      }
      await out.maybeFlush();
    }
  }

  /** What the output could not carry, as notes; the libxl END; everything handed to the sink. */
  async finish(): Promise<ConvertReport> {
    const { notes, out } = this;
    if (this.hasKv) writeEmulatorKv(out, this.xenstore);
    if (this.fillerOnly) notes.push(`${this.fillerOnly} page batch(es) held only filler entries (0xf0000000): no PAGE_DATA written for them`);
    for (const [name, n] of this.markers) notes.push(`${n} ${name} chunk(s) not carried (no v2 equivalent)`);
    if (this.discardedToolstack) {
      notes.push(`toolstack data (${this.discardedToolstack} bytes) discarded: libxc streams have no place for it; convert to libxl@2 to keep its physmap`);
    }
    if (this.xsaveMasks) notes.push(`${this.xsaveMasks} vcpu xsave feature mask(s) not carried (X86_PV_VCPU_XSAVE has no field for them)`);
    if (this.shape.guest === "hvm" && !this.sawQemu) {
      notes.push(
        this.libxl
          ? "HVM image without a QEMU record: no EMULATOR_CONTEXT written (the device model starts without saved state)"
          : "HVM image without a QEMU record: output equals convert-legacy-stream --skip-qemu",
      );
    }
    if (this.libxl) out.record(LIBXL_REC.END, EMPTY);
    await out.drain();
    this.report.records = out.records;
    return this.report;
  }
}

const EMPTY = new Uint8Array(0);

/** EMULATOR_XENSTORE_DATA from the physmap keys (emulator "unknown", index 0): written after the libxc END. */
function writeEmulatorKv(out: Out, kv: ByteWriter): void {
  const body = new ByteWriter(8 + kv.length);
  body.u32le(0).u32le(0).bytes(kv.finish());
  out.record(LIBXL_REC.EMULATOR_XENSTORE_DATA, body.finish());
}
