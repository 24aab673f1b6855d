import fc from "fast-check";
import { LEGACY_HVM_PARAM_CHUNKS, LEGACY_VCPU_CONTEXT_SIZES } from "@vmstream/wire-spec";

/**
 * Legacy Xen images (Xen ≤ 4.5) as a model plus an encoder written from the
 * spec (research/xen.md §6), independent of @vmstream/legacy's reader, so
 * property tests and the compat matrix compare that package against bytes it
 * did not produce.
 */
export type LegacyWidth = 32 | 64;
export type LegacyGuest = "pv" | "hvm";

export interface LegacyPhysmapModel {
  physOffset: bigint;
  startAddr: bigint;
  size: bigint;
  name: string;
  /** The 4 bytes a 64-bit toolstack leaks after the name's NUL. */
  stray: Uint8Array;
}

export type LegacyChunkModel =
  | { kind: "batch"; entries: { pfn: number; type: number; fill: number }[] }
  | { kind: "tsc"; mode: number; nsec: bigint; khz: number; incarnation: number }
  | { kind: "param"; id: number; pad: number; value: bigint }
  | { kind: "vcpu_info"; maxId: number; online: number[] }
  | { kind: "toolstack"; entries: LegacyPhysmapModel[] | null }
  | { kind: "marker"; id: -1 | -9 };

export interface LegacyImageModel {
  width: LegacyWidth;
  guest: LegacyGuest;
  p2mSize: number;
  chunks: LegacyChunkModel[];
  pv?: {
    guestWidth: 4 | 8;
    extended: boolean;
    /** 0, or the xsave record size named by the "xcnt" block (16-byte header included). */
    xsaveLen: number;
    frames: bigint[];
    unmapped: bigint[];
    fill: number;
  };
  hvm?: { ioreq: bigint; bufioreq: bigint; store: bigint; contextExtra: Uint8Array; qemu: Uint8Array | null };
}

/** Filler entry the old saver left in batches (XTAB for pfn 0). */
export const LEGACY_FILLER = { pfn: 0, type: 0xf } as const;

class Bytes {
  parts: Uint8Array[] = [];
  push(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  u32(...v: number[]): this {
    const b = new Uint8Array(4 * v.length);
    const dv = new DataView(b.buffer);
    v.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
    return this.push(b);
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  u64(...v: bigint[]): this {
    const b = new Uint8Array(8 * v.length);
    const dv = new DataView(b.buffer);
    v.forEach((x, i) => dv.setBigUint64(8 * i, x, true));
    return this.push(b);
  }
  ulong(width: LegacyWidth, v: bigint): this {
    return width === 32 ? this.u32(Number(v & 0xffff_ffffn)) : this.u64(v);
  }
  text(s: string): this {
    return this.push(Uint8Array.from(s, (c) => c.charCodeAt(0)));
  }
  fill(n: number, byte: number): this {
    return this.push(new Uint8Array(n).fill(byte));
  }
  join(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** A page's bytes: its pfn in the first 4 bytes, then a constant fill, so pages differ and are cheap to make. */
export function legacyPage(pfn: number, fill: number): Uint8Array {
  const p = new Uint8Array(4096).fill(fill);
  new DataView(p.buffer).setUint32(0, pfn, true);
  return p;
}

/** Xen's minimal HVM save blob: HEADER (code 1, 24 bytes, magic 0x54381286) then END. */
export function hvmContextBlob(extra: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Bytes().u32(1, 24, 0x5438_1286, 1).u64(0n).u32(0, 2_000_000);
  if (extra.length) b.u32(2, extra.length).push(extra); // an opaque descriptor: u16 code 2, u16 instance 0, u32 length
  return b.u32(0, 0).join();
}

export function physmapBlob(width: LegacyWidth, entries: LegacyPhysmapModel[]): Uint8Array {
  const b = new Bytes().u32(1, entries.length);
  for (const e of entries) {
    b.u64(e.physOffset, e.startAddr, e.size).u32(e.name.length + 1).text(e.name).fill(1, 0);
    if (width === 64) b.push(e.stray);
  }
  return b.join();
}

/** Serialise a model exactly as a Xen ≤ 4.5 toolstack of that width laid it out. */
export function encodeLegacyImage(m: LegacyImageModel): Uint8Array {
  const b = new Bytes();
  const w = m.width;
  b.ulong(w, BigInt(m.p2mSize));
  let online: number[] = [];
  if (m.pv) {
    const vcpuSize = Number(Object.keys(LEGACY_VCPU_CONTEXT_SIZES).find((k) => LEGACY_VCPU_CONTEXT_SIZES[Number(k)]!.width === m.pv!.guestWidth));
    const blocks = new Bytes().text("vcpu").u32(vcpuSize).fill(vcpuSize, 0);
    if (m.pv.extended) blocks.text("extv").u32(0);
    if (m.pv.xsaveLen) blocks.text("xcnt").u32(4).u32(m.pv.xsaveLen);
    const blk = blocks.join();
    b.ulong(w, w === 32 ? 0xffff_ffffn : 0xffff_ffff_ffff_ffffn).u32(blk.length).push(blk);
    for (const f of m.pv.frames) b.ulong(w, f);
  }
  for (const c of m.chunks) {
    switch (c.kind) {
      case "batch":
        b.i32(c.entries.length);
        for (const e of c.entries) b.ulong(w, BigInt(((e.type << 28) | e.pfn) >>> 0));
        for (const e of c.entries) if (e.type < 0xd && !(e.type === 0xf && e.pfn === 0)) b.push(legacyPage(e.pfn, e.fill));
        break;
      case "tsc":
        b.i32(-7).u32(c.mode).u64(c.nsec).u32(c.khz, c.incarnation);
        break;
      case "param":
        b.i32(c.id).u32(c.pad).u64(c.value);
        break;
      case "vcpu_info": {
        const words = new Array<bigint>(Math.floor(c.maxId / 64) + 1).fill(0n);
        for (const v of c.online) words[v >> 6]! |= 1n << BigInt(v & 63);
        b.i32(-2).i32(c.maxId).u64(...words);
        online = c.online;
        break;
      }
      case "toolstack": {
        const blob = c.entries ? physmapBlob(w, c.entries) : new Uint8Array(0);
        b.i32(-18).u32(blob.length).push(blob);
        break;
      }
      case "marker":
        b.i32(c.id);
        break;
    }
  }
  b.i32(0);
  if (m.pv) {
    b.u32(m.pv.unmapped.length);
    for (const u of m.pv.unmapped) b.ulong(w, u);
    const vcpuSize = m.pv.guestWidth === 8 ? 0x1430 : 0xaf0;
    for (const v of online) {
      b.fill(vcpuSize, (m.pv.fill + v) & 0xff);
      if (m.pv.extended) b.fill(128, (m.pv.fill + v + 1) & 0xff);
      if (m.pv.xsaveLen) b.u64(BigInt(v) | 7n, BigInt(m.pv.xsaveLen - 16)).fill(m.pv.xsaveLen - 16, 0xc0 | v);
    }
    b.fill(4096, m.pv.fill ^ 0x55);
  }
  if (m.hvm) {
    const ctx = hvmContextBlob(m.hvm.contextExtra);
    b.u64(m.hvm.ioreq, m.hvm.bufioreq, m.hvm.store).u32(ctx.length).push(ctx);
    if (m.hvm.qemu) b.text("DeviceModelRecord0002").u32(m.hvm.qemu.length).push(m.hvm.qemu);
  }
  return b.join();
}

export interface LegacyArbOptions {
  width?: LegacyWidth;
  guest?: LegacyGuest;
  /** Force a toolstack (physmap) chunk in or out. */
  toolstack?: boolean;
  /** Force the HVM QEMU record in or out. */
  qemu?: boolean;
  /** Allow batches made only of filler entries (convert-legacy-stream writes a count-0 PAGE_DATA for them). */
  fillerOnlyBatches?: boolean;
  maxBatches?: number;
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.nat({ max: 0xffff_ffff });
const PV_TYPES = [0x0, 0x1, 0x2, 0x3, 0x4, 0x9, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf];
const HVM_TYPES = [0x0, 0x0, 0x0, 0xd, 0xe, 0xf];

/** Batches; a PV guest's pfns lie inside its p2m (`maxPfn` = p2m_size − 1), as legacy restore required. */
function batchArb(guest: LegacyGuest, fillerOnly: boolean, maxPfn: number): fc.Arbitrary<LegacyChunkModel> {
  const entry = fc
    .record({
      pfn: fc.integer({ min: 0, max: maxPfn }),
      type: fc.constantFrom(...(guest === "pv" ? PV_TYPES : HVM_TYPES)),
      fill: fc.nat({ max: 255 }),
    })
    // XTAB for pfn 0 is the filler entry; a real entry there is made XALLOC instead.
    .map((e) => (e.pfn === 0 && e.type === 0xf ? { ...e, type: 0xe } : e));
  const real = fc.uniqueArray(entry, { minLength: 1, maxLength: 6, selector: (e) => e.pfn });
  return fc
    .tuple(real, fc.nat({ max: 2 }), fc.nat({ max: 6 }), fillerOnly ? fc.boolean() : fc.constant(false))
    .map(([entries, fillers, at, only]) => {
      const es = only ? [] : [...entries];
      for (let i = 0; i < (only ? Math.max(1, fillers) : fillers); i++) es.splice(Math.min(at, es.length), 0, { ...LEGACY_FILLER, fill: 0 });
      return { kind: "batch" as const, entries: es };
    });
}

// Built once: constructing a stringMatching arbitrary costs ~25 ms, and
// physmapArb is called inside a chain, i.e. once per generated image.
const physmapName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,11}$/);

const physmapArb = (width: LegacyWidth): fc.Arbitrary<LegacyPhysmapModel> =>
  fc.record({
    physOffset: u64,
    startAddr: u64,
    size: u64,
    name: physmapName,
    stray: width === 64 ? fc.uint8Array({ minLength: 4, maxLength: 4 }) : fc.constant(new Uint8Array(0)),
  });

/** A legacy image model of the given (or any) width and guest type, and its bytes. */
export function legacyImageArb(opts: LegacyArbOptions = {}): fc.Arbitrary<{ model: LegacyImageModel; bytes: Uint8Array }> {
  const width = opts.width !== undefined ? fc.constant(opts.width) : fc.constantFrom<LegacyWidth>(32, 64);
  const guest = opts.guest !== undefined ? fc.constant(opts.guest) : fc.constantFrom<LegacyGuest>("pv", "hvm");
  return fc
    .tuple(width, guest)
    .chain(([w, g]) => fc.tuple(fc.constant(w), fc.constant(g), g === "pv" ? fc.integer({ min: 1, max: 3000 }) : fc.integer({ min: 1, max: 0xffff_ffff })))
    .chain(([w, g, p2mSize]) => {
    const paramIds = Object.keys(LEGACY_HVM_PARAM_CHUNKS).map(Number);
    const common: fc.Arbitrary<LegacyChunkModel>[] = [
      batchArb(g, opts.fillerOnlyBatches ?? false, g === "pv" ? p2mSize - 1 : 0x0fff_ffff),
      fc.record({ kind: fc.constant("tsc" as const), mode: fc.nat({ max: 3 }), nsec: u64, khz: u32, incarnation: u32 }),
      fc.record({ kind: fc.constant("marker" as const), id: fc.constantFrom<-1 | -9>(-1, -9) }),
    ];
    if (g === "hvm") {
      common.push(fc.record({ kind: fc.constant("param" as const), id: fc.constantFrom(...paramIds), pad: fc.oneof(fc.constant(0), u32), value: u64 }));
    }
    const body = fc.array(fc.oneof(...common), { maxLength: opts.maxBatches ?? 6 });
    const vcpuInfo = fc
      .integer({ min: 0, max: g === "pv" ? 3 : 70 })
      .chain((maxId) => fc.tuple(fc.constant(maxId), fc.uniqueArray(fc.integer({ min: 0, max: maxId }), { maxLength: 3 })))
      // A PV guest's vcpu 0 is always online (v2 restore needs its state).
      .map(([maxId, ids]) => ({ kind: "vcpu_info" as const, maxId, online: [...new Set(g === "pv" ? [0, ...ids] : ids)].sort((a, b) => a - b) }));
    // Only an HVM guest's device model has a physmap; a PV image's blob is empty or absent.
    const toolstack = fc
      .option(g === "hvm" ? fc.array(physmapArb(w), { maxLength: 3 }) : fc.constant<LegacyPhysmapModel[]>([]), { nil: null })
      .map((entries) => ({ kind: "toolstack" as const, entries }));
    const withToolstack = opts.toolstack !== undefined ? fc.constant(opts.toolstack) : fc.boolean();
    const pv =
      g === "pv"
        ? fc
            .record({
              guestWidth: fc.constantFrom<4 | 8>(4, 8),
              extended: fc.boolean(),
              xsaveLen: fc.constantFrom(0, 0, 16, 80),
              p2mSize: fc.constant(p2mSize),
              unmapped: fc.array(fc.bigInt({ min: 0n, max: w === 32 ? 0xffff_ffffn : (1n << 64n) - 1n }), { maxLength: 3 }),
              fill: fc.nat({ max: 255 }),
            })
            .chain((p) => {
              const fpp = 4096 / p.guestWidth;
              const n = Math.floor((p.p2mSize - 1) / fpp) + 1;
              const max = w === 32 ? 0xffff_ffffn : (1n << 64n) - 1n;
              return fc.array(fc.bigInt({ min: 0n, max }), { minLength: n, maxLength: n }).map((frames) => ({ ...p, frames }));
            })
        : fc.constant(null);
    const hvm =
      g === "hvm"
        ? fc.record({
            ioreq: u64,
            bufioreq: u64,
            store: u64,
            contextExtra: fc.uint8Array({ maxLength: 24 }),
            qemu: opts.qemu === false ? fc.constant(null) : opts.qemu === true ? fc.uint8Array({ maxLength: 64 }) : fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
            p2mSize: fc.constant(p2mSize),
          })
        : fc.constant(null);
    return fc
      .tuple(body, fc.option(vcpuInfo, { nil: null }), withToolstack, toolstack, pv, hvm, fc.nat({ max: 6 }), fc.nat({ max: 6 }))
      .map(([chunks, vi, wantTs, ts, p, h, viAt, tsAt]) => {
        const cs = [...chunks];
        if (vi || g === "pv") cs.splice(Math.min(viAt, cs.length), 0, vi ?? { kind: "vcpu_info", maxId: 0, online: [0] });
        if (wantTs) cs.splice(Math.min(tsAt, cs.length), 0, ts);
        const model: LegacyImageModel = { width: w, guest: g, p2mSize: p ? p.p2mSize : h!.p2mSize, chunks: cs };
        if (p) model.pv = { guestWidth: p.guestWidth, extended: p.extended, xsaveLen: p.xsaveLen, frames: p.frames, unmapped: p.unmapped, fill: p.fill };
        if (h) model.hvm = { ioreq: h.ioreq, bufioreq: h.bufioreq, store: h.store, contextExtra: h.contextExtra, qemu: h.qemu };
        return { model, bytes: encodeLegacyImage(model) };
      });
  });
}
