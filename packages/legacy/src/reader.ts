import { LimitError, MalformedError, RefusedError, TruncatedError, WireError, hex, type CodecOptions, type StreamReader } from "@vmstream/framing";
import {
  LEGACY_CHUNKS,
  LEGACY_CHUNK_MIN,
  LEGACY_EXTENDED_VCPU_SIZE,
  LEGACY_FILLER_PFN,
  LEGACY_HVM_PARAM_CHUNKS,
  LEGACY_MAX_BATCH,
  LEGACY_MAX_VCPU_ID,
  LEGACY_PAGE_SIZE,
  LEGACY_QEMU_SIGNATURES,
  LEGACY_VCPU_CONTEXT_SIZES,
} from "@vmstream/wire-spec";
import { XL_FLAG_STREAMV2, XL_HEADER_SIZE, hasXlMagic, readXlFixedHeader } from "@vmstream/libxl";
import { resolveShape, type Guest, type Width } from "./shape.js";

/**
 * One structural piece of a legacy image, in stream order. `payload` bytes
 * follow it in the reader (page data, blobs); the consumer may `pipe`,
 * `skip` or `read` exactly those before asking for the next item, or leave
 * them and the walker skips them. Views (`pfns`) are valid until the next item.
 */
export type LegacyItem = (
  | { kind: "xl"; byteorder: number; mandatoryFlags: number; optionalFlags: number }
  | { kind: "p2m_size"; value: number }
  | { kind: "ext_info"; length: number }
  | { kind: "ext_block"; id: string }
  | { kind: "p2m_frames"; count: number }
  | { kind: "batch"; count: number; pfns: Uint32Array; dataPages: number; fillers: number }
  | { kind: "tsc_info"; mode: number; nsec: bigint; khz: number; incarnation: number }
  | { kind: "hvm_param"; id: number; name: string; index: number; pad: number; value: bigint }
  | { kind: "vcpu_info"; maxVcpuId: number; bitmap: bigint[]; online: number[] }
  | { kind: "marker"; id: number; name: string }
  | { kind: "toolstack" }
  | { kind: "compressed_data" }
  | { kind: "end" }
  | { kind: "hvm_magic"; ioreq: bigint; bufioreq: bigint; store: bigint }
  | { kind: "hvm_context" }
  | { kind: "unmapped"; count: number }
  | { kind: "vcpu_basic"; vcpu: number }
  | { kind: "vcpu_extended"; vcpu: number }
  | { kind: "vcpu_xsave"; vcpu: number; mask: bigint }
  | { kind: "shared_info" }
  | { kind: "qemu"; signature: string; sized: boolean }
) & {
  /** Absolute offset of the item's first byte. */
  offset: number;
  /** Bytes of bulk data that follow in the reader; -1 means "to the end of the stream". */
  payload: number;
};

/** What the walker learnt before the first item: how the image was saved. */
export interface LegacyShape {
  width: Width;
  guest: Guest;
  /** Offset of the legacy image proper (after an xl header, if any). */
  start: number;
  xl: boolean;
}

/** Size of one native unsigned long of the saving toolstack. */
export const ulongSize = (w: Width): 4 | 8 => (w === 32 ? 4 : 8);

/** p2m_size beyond this cannot be described by v2 (X86_PV_P2M_FRAMES holds a u32 end pfn) nor by 28-bit legacy pfns. */
export const MAX_P2M_SIZE = 2 ** 32;

const bytesLeft = (r: StreamReader): number => (r.size === undefined ? Number.MAX_SAFE_INTEGER : r.size - r.offset);

/**
 * Settle the image's shape from its first bytes (after an xl header) and the
 * caller's flags. Consumes nothing.
 */
export async function openLegacy(r: StreamReader, version: string, opts: CodecOptions): Promise<LegacyShape> {
  const base = r.offset;
  await r.fill(XL_HEADER_SIZE);
  let start = base;
  let xl = false;
  if (hasXlMagic(r.peek(XL_HEADER_SIZE))) {
    const h = r.peek(XL_HEADER_SIZE);
    if (h.length < XL_HEADER_SIZE) throw new TruncatedError("xl header", base, XL_HEADER_SIZE, h.length);
    const optLen = new DataView(h.buffer, h.byteOffset + 44, 4).getUint32(0, true);
    start = base + XL_HEADER_SIZE + optLen;
    xl = true;
    // The payload head: a config larger than the buffer is read, bounded by what the source delivers.
    if (!(await r.fill(XL_HEADER_SIZE + optLen))) {
      throw new TruncatedError("xl optional data", base + XL_HEADER_SIZE, optLen, r.buffered - XL_HEADER_SIZE, { path: "xl" });
    }
    await r.fill(XL_HEADER_SIZE + optLen + 64);
  } else {
    await r.fill(64);
  }
  const all = r.peek(r.buffered);
  const head = all.subarray(Math.min(all.length, start - base));
  const { width, guest } = resolveShape(head, start, version, opts);
  return { width, guest, start, xl };
}

/**
 * Walk a legacy image item by item, checking every structural rule as it
 * goes. Counts and lengths read from the stream are checked against their
 * limits and the bytes that remain before anything is sized by them. The
 * sections come in the order their bytes do; the converter reads them one
 * by one (LegacyWalk), everyone else as one sequence.
 */
export async function* walkLegacy(r: StreamReader, shape: LegacyShape): AsyncGenerator<LegacyItem> {
  const w = new LegacyWalk(r, shape);
  if (shape.xl) yield* w.xlHeader();
  yield* w.imageHeader();
  if (shape.guest === "pv") yield* w.extendedInfo();
  yield* w.body();
  yield* shape.guest === "hvm" ? w.hvmTail() : w.pvTail();
  await w.end();
}

/**
 * The sections of a legacy image, each an item sequence, read in stream
 * order: xl header (if any), image header, extended info and p2m frame
 * list (PV), body chunks up to the end chunk, then the HVM or PV tail. What
 * one section learns (p2m_size, vcpu sizes, online vcpus) the next uses.
 */
export class LegacyWalk {
  /** p2m_size from the image header. */
  p2mSize = 0;
  private payloadEnd = 0;
  private toEof = false;
  /** PV: size of a vcpu's basic context, whether extended contexts and xsave items follow. */
  private basicSize = 0;
  private extended = false;
  private xsaveLen = 0;
  /** vcpus the vcpu_info chunk marks online (null: no such chunk). */
  private online: number[] | null = null;
  private readonly ul: 4 | 8;

  constructor(
    private readonly r: StreamReader,
    private readonly shape: LegacyShape,
  ) {
    this.ul = ulongSize(shape.width);
  }

  /** Before an item is handed out: its payload must be backed by the input. */
  private begin<T extends LegacyItem>(item: T): T {
    const at = this.r.offset;
    if (item.payload === -1) this.toEof = true;
    else {
      checkBacked(this.r, item.payload, `${item.kind} data`, at);
      this.payloadEnd = at + item.payload;
    }
    return item;
  }

  /** After the consumer is done with an item: skip what it left of the payload. */
  private async done(kind: string): Promise<void> {
    const r = this.r;
    if (this.toEof) return;
    if (r.offset < this.payloadEnd) await r.skip(this.payloadEnd - r.offset, `${kind} data`);
    else if (r.offset > this.payloadEnd) throw new WireError("MALFORMED", `consumer read past the ${kind} payload`, this.payloadEnd);
  }

  /** The xl header (STREAMv2 clear): the legacy image follows its optional data, the item's payload. */
  async *xlHeader(): AsyncGenerator<LegacyItem> {
    const at = this.r.offset;
    const h = await readXlFixedHeader(this.r);
    if (h.mandatoryFlags & XL_FLAG_STREAMV2) {
      throw new MalformedError("this xl file carries a migration v2 (libxl) stream, not a legacy image", at + 36, {
        expected: "STREAMv2 flag clear",
        found: hex(h.mandatoryFlags),
      });
    }
    const { byteorder, mandatoryFlags, optionalFlags } = h;
    yield this.begin({ kind: "xl", offset: at, payload: h.optionalLength, byteorder, mandatoryFlags, optionalFlags });
    await this.done("xl");
  }

  /** p2m_size, one native unsigned long. */
  async *imageHeader(): AsyncGenerator<LegacyItem> {
    const r = this.r;
    const at = r.offset;
    const p2mRaw = this.ul === 4 ? BigInt((await r.read(4, "p2m_size")).u32le()) : (await r.read(8, "p2m_size")).u64le();
    if (p2mRaw === 0n || p2mRaw > BigInt(MAX_P2M_SIZE)) {
      throw new LimitError(`p2m_size ${hex(p2mRaw)} is outside 1 … 2^32`, at, { path: "p2m_size" });
    }
    this.p2mSize = Number(p2mRaw);
    yield this.begin({ kind: "p2m_size", offset: at, payload: 0, value: this.p2mSize });
    await this.done("p2m_size");
  }

  /** PV: the extended-info signature and blocks (vcpu, extv, xcnt), then the p2m frame list. */
  async *extendedInfo(): AsyncGenerator<LegacyItem> {
    const r = this.r;
    const ul = this.ul;
    const at = r.offset;
    const e = await r.read(ul + 4, "extended-info header");
    const sig = ul === 4 ? e.u32le() === 0xffff_ffff : e.u64le() === 0xffff_ffff_ffff_ffffn;
    if (!sig) throw new MalformedError("PV image without the extended-info signature", at, { expected: "~0UL" });
    const total = e.u32le();
    checkBacked(r, total, "extended info", at + ul);
    yield this.begin({ kind: "ext_info", offset: at, payload: 0, length: total });
    await this.done("ext_info");
    const end = r.offset + total;
    const seen = new Set<string>();
    let guestWidth: 4 | 8 = 8;
    while (r.offset < end) {
      const bAt = r.offset;
      if (end - bAt < 8) throw new MalformedError("extended-info block header overruns the extended info", bAt, { path: "ext_info" });
      const bh = await r.read(8, "extended-info block");
      const id = String.fromCharCode(...bh.bytesView(4));
      const size = bh.u32le();
      if (size > end - bh.offset) {
        throw new MalformedError(`extended-info block "${printable(id)}" overruns the extended info`, bAt + 4, {
          expected: `at most ${end - bh.offset} bytes`,
          found: String(size),
        });
      }
      if (seen.has(id)) throw new MalformedError(`duplicate extended-info block "${printable(id)}"`, bAt);
      seen.add(id);
      if (id === "vcpu") {
        const g = LEGACY_VCPU_CONTEXT_SIZES[size];
        if (!g) {
          throw new MalformedError("vcpu block size names no known guest width", bAt + 4, {
            expected: "0x1430 (64-bit guest) or 0xaf0 (32-bit guest)",
            found: hex(size),
          });
        }
        guestWidth = g.width;
        this.basicSize = size;
      } else if (id === "extv") {
        this.extended = true;
      } else if (id === "xcnt") {
        if (size < 4) throw new MalformedError("xcnt block too short", bAt + 4, { expected: "at least 4", found: String(size) });
        await r.need(4, "xcnt block");
        const x = r.peek(4).reduce((acc, v, i) => acc + v * 2 ** (8 * i), 0);
        if (x !== 0 && x < 16) {
          throw new MalformedError("xsave size in the xcnt block is below its 16-byte header", bAt + 8, { found: String(x) });
        }
        this.xsaveLen = x;
      } else {
        throw new MalformedError(`unknown extended-info block "${printable(id)}"`, bAt, { expected: "vcpu, extv or xcnt" });
      }
      yield this.begin({ kind: "ext_block", offset: bAt, payload: size, id });
      await this.done("ext_block");
    }
    if (this.basicSize === 0) throw new MalformedError("extended info has no vcpu block (guest width unknown)", at);
    const fpp = LEGACY_PAGE_SIZE / guestWidth;
    const count = Math.floor((this.p2mSize - 1) / fpp) + 1;
    yield this.begin({ kind: "p2m_frames", offset: r.offset, payload: count * ul, count });
    await this.done("p2m_frames");
  }

  /** Body: page batches and the other chunks, up to and including the end chunk. */
  async *body(): AsyncGenerator<LegacyItem> {
    const r = this.r;
    const batch = new PageBatch(this.ul, this.shape.guest, this.p2mSize);
    for (;;) {
      const at = r.offset;
      const id = (await r.read(4, "chunk id")).i32le();
      let item: LegacyItem;
      if (id > 0) item = await batch.read(r, id, at);
      else if (id === 0) item = { kind: "end", offset: at, payload: 0 };
      else item = await this.chunk(id, at);
      if (item.kind === "marker" && item.id === -13) batch.compressed = true;
      yield this.begin(item);
      await this.done(item.kind);
      if (id === 0) return;
    }
  }

  /** One chunk with a negative id (its id already read at `at`). */
  private async chunk(id: number, at: number): Promise<LegacyItem> {
    const r = this.r;
    const name = LEGACY_CHUNKS[id];
    if (id < LEGACY_CHUNK_MIN || name === undefined) {
      throw new MalformedError(`unknown chunk id ${id}`, at, { expected: `${LEGACY_CHUNK_MIN} … ${LEGACY_MAX_BATCH}` });
    }
    const index = LEGACY_HVM_PARAM_CHUNKS[id];
    if (index !== undefined) {
      if (this.shape.guest === "pv") throw new MalformedError(`HVM-only chunk ${name} in a PV image`, at);
      const c = await r.read(12, name);
      const pad = c.u32le();
      const value = c.u64le();
      return { kind: "hvm_param", offset: at, payload: 0, id, name, index, pad, value };
    }
    switch (id) {
      case -2:
        return this.vcpuInfo(at);
      case -5:
      case -6:
        throw new RefusedError(`chunk ${name} (transcendent memory) was never specified and cannot be read`, at);
      case -7: {
        const c = await r.read(20, "tsc_info");
        const mode = c.u32le();
        const nsec = c.u64le();
        const khz = c.u32le();
        const incarnation = c.u32le();
        return { kind: "tsc_info", offset: at, payload: 0, mode, nsec, khz, incarnation };
      }
      case -12:
      case -18: {
        const size = (await r.read(4, name)).u32le();
        return { kind: id === -12 ? "compressed_data" : "toolstack", offset: at, payload: size };
      }
      default:
        // -1, -9, -13: markers with no body.
        return { kind: "marker", offset: at, payload: 0, id, name };
    }
  }

  /** The vcpu_info chunk: max vcpu id and the online bitmap. */
  private async vcpuInfo(at: number): Promise<LegacyItem> {
    const r = this.r;
    const c = await r.read(4, "vcpu_info");
    const maxVcpuId = c.i32le();
    if (maxVcpuId < 0) throw new MalformedError("negative max vcpu id", at + 4, { found: String(maxVcpuId) });
    if (maxVcpuId > LEGACY_MAX_VCPU_ID) {
      throw new LimitError(`max vcpu id ${maxVcpuId} exceeds ${LEGACY_MAX_VCPU_ID}`, at + 4, { path: "vcpu_info" });
    }
    if (this.online) throw new MalformedError("second vcpu_info chunk", at);
    const words = Math.floor(maxVcpuId / 64) + 1;
    const m = await r.read(words * 8, "vcpu_info bitmap");
    const bitmap: bigint[] = [];
    const online: number[] = [];
    for (let w = 0; w < words; w++) {
      const lo = m.u32le();
      const hi = m.u32le();
      bitmap.push((BigInt(hi) << 32n) | BigInt(lo));
      for (let bit = 0; bit < 64; bit++) if ((bit < 32 ? lo >>> bit : hi >>> (bit - 32)) & 1) online.push(w * 64 + bit);
    }
    if (this.shape.guest === "pv" && online[0] !== 0) {
      // v2 restore needs vcpu 0's state; an image without it cannot be restored.
      throw new MalformedError("vcpu 0 is not online in a PV image", at + 8, { path: "vcpu_info" });
    }
    this.online = online;
    return { kind: "vcpu_info", offset: at, payload: 0, maxVcpuId, bitmap, online };
  }

  /** HVM tail: the three magic pfns, the HVM context, then (from the toolstack) the QEMU record. */
  async *hvmTail(): AsyncGenerator<LegacyItem> {
    const r = this.r;
    let at = r.offset;
    const t = await r.read(28, "HVM tail");
    const ioreq = t.u64le();
    const bufioreq = t.u64le();
    const store = t.u64le();
    yield this.begin({ kind: "hvm_magic", offset: at, payload: 0, ioreq, bufioreq, store });
    await this.done("hvm_magic");
    const ctxSize = t.u32le();
    yield this.begin({ kind: "hvm_context", offset: at + 24, payload: ctxSize });
    await this.done("hvm_context");
    // libxc's own stream ends here; the QEMU record is the toolstack's, and a bare xc_domain_save image has none.
    if (await r.atEnd()) return;
    at = r.offset;
    const q = await r.read(21, "QEMU record signature");
    const signature = String.fromCharCode(...q.bytesView(21));
    if (signature === LEGACY_QEMU_SIGNATURES.toEof) {
      yield this.begin({ kind: "qemu", offset: at, payload: -1, signature, sized: false });
      // Consume whatever the consumer left: the record runs to the end.
      while (await r.fill(1)) r.take(r.buffered);
      return;
    }
    if (signature !== LEGACY_QEMU_SIGNATURES.sized && signature !== LEGACY_QEMU_SIGNATURES.remus) {
      throw new MalformedError("unknown QEMU record signature", at, {
        expected: Object.values(LEGACY_QEMU_SIGNATURES).join(", "),
        found: JSON.stringify(printable(signature)),
      });
    }
    const size = (await r.read(4, "QEMU record length")).u32le();
    yield this.begin({ kind: "qemu", offset: at, payload: size, signature, sized: true });
    await this.done("qemu");
  }

  /** PV tail: the unmapped pfn list, each online vcpu's contexts, the shared info page. */
  async *pvTail(): AsyncGenerator<LegacyItem> {
    const r = this.r;
    let at = r.offset;
    const count = (await r.read(4, "unmapped pfn count")).u32le();
    checkBacked(r, count * this.ul, "unmapped pfn list", at);
    yield this.begin({ kind: "unmapped", offset: at, payload: count * this.ul, count });
    await this.done("unmapped");
    // Without a vcpu_info chunk legacy restore assumed vcpu 0 alone (convert-legacy-stream assumes none and misreads the tail).
    for (const vcpu of this.online ?? [0]) {
      yield this.begin({ kind: "vcpu_basic", offset: r.offset, payload: this.basicSize, vcpu });
      await this.done("vcpu_basic");
      if (this.extended) {
        yield this.begin({ kind: "vcpu_extended", offset: r.offset, payload: LEGACY_EXTENDED_VCPU_SIZE, vcpu });
        await this.done("vcpu_extended");
      }
      if (this.xsaveLen) {
        at = r.offset;
        const x = await r.read(16, "xsave header");
        const mask = x.u64le();
        const size = x.u64le();
        if (size !== BigInt(this.xsaveLen - 16)) {
          throw new MalformedError(`vcpu ${vcpu} xsave size disagrees with the xcnt block`, at + 8, {
            expected: String(this.xsaveLen - 16),
            found: size.toString(),
          });
        }
        yield this.begin({ kind: "vcpu_xsave", offset: at, payload: this.xsaveLen - 16, vcpu, mask });
        await this.done("vcpu_xsave");
      }
    }
    yield this.begin({ kind: "shared_info", offset: r.offset, payload: LEGACY_PAGE_SIZE });
    await this.done("shared_info");
  }

  /** Nothing may follow the image (a QEMU record to the end has consumed it all). */
  async end(): Promise<void> {
    if (!(await this.r.atEnd())) {
      throw new WireError("TRAILING_BYTES", "bytes after the end of the legacy image", this.r.offset, {
        expected: "end of stream",
      });
    }
  }
}

/** A page batch's pfn list, checked: reserved types, pfns beyond the p2m (PV), duplicates. */
class PageBatch {
  /** After a compressed-data marker, batches carry no page data of their own. */
  compressed = false;
  private readonly pfns = new Uint32Array(LEGACY_MAX_BATCH);
  private readonly dup = new Set<number>();
  constructor(
    private readonly ul: 4 | 8,
    private readonly guest: Guest,
    private readonly p2mSize: number,
  ) {}

  /** Read the pfns of a batch of `id` pages whose count was read at `at`. The item's `pfns` view is valid until the next batch. */
  async read(r: StreamReader, id: number, at: number): Promise<LegacyItem> {
    if (id > LEGACY_MAX_BATCH) {
      throw new LimitError(`page batch of ${id} exceeds ${LEGACY_MAX_BATCH} pages`, at, { path: "chunk" });
    }
    const { ul, pfns, dup } = this;
    const a = await r.read(id * ul, "page batch pfns");
    // The entries are read from the bytes directly: up to 1024 per batch, a method call each cost more than the checks.
    const first = a.offset;
    const b = a.bytesView(id * ul);
    let dataPages = 0;
    let fillers = 0;
    // Savers list pfns in ascending order, which rules out duplicates without the set;
    // the set takes over from the first entry out of order.
    let last = -1;
    let sorted = true;
    dup.clear();
    for (let i = 0, p = 0; i < id; i++, p += ul) {
      const eAt = first + p;
      const v = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
      if (ul === 8 && (b[p + 4]! | b[p + 5]! | b[p + 6]! | b[p + 7]!) !== 0) {
        throw new MalformedError("pfn entry has bits above 31 set", eAt + 4, { path: `chunk.pfn[${i}]`, expected: "0" });
      }
      const t = v >>> 28;
      if (t >= 5 && t <= 8) {
        throw new MalformedError(`pfn entry has reserved page type ${hex(t)}`, eAt, { path: `chunk.pfn[${i}]`, found: hex(v, 8) });
      }
      pfns[i] = v;
      if (v === LEGACY_FILLER_PFN) {
        fillers++;
        continue;
      }
      if (this.guest === "pv" && (v & 0x0fff_ffff) >= this.p2mSize) {
        // Legacy restore refused these, and so does v2 restore of the converted stream.
        throw new MalformedError(`pfn ${hex(v & 0x0fff_ffff)} lies beyond the p2m (p2m_size ${hex(this.p2mSize)})`, eAt, { path: `chunk.pfn[${i}]` });
      }
      if (sorted && v > last) {
        last = v;
      } else {
        if (sorted) {
          sorted = false;
          for (let j = 0; j < i; j++) if (pfns[j] !== LEGACY_FILLER_PFN) dup.add(pfns[j]!);
        }
        if (dup.has(v)) throw new MalformedError(`duplicate pfn ${hex(v & 0x0fff_ffff)} in page batch`, eAt, { path: `chunk.pfn[${i}]` });
        dup.add(v);
      }
      if (t < 0xd && !this.compressed) dataPages++;
    }
    return { kind: "batch", offset: at, payload: dataPages * LEGACY_PAGE_SIZE, count: id, pfns: pfns.subarray(0, id), dataPages, fillers };
  }
}

/** Refuse a length the remaining input cannot back (when the input's size is known). */
function checkBacked(r: StreamReader, n: number, what: string, at: number): void {
  const left = bytesLeft(r);
  if (n > left) throw new TruncatedError(what, at, n, left);
}

const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
