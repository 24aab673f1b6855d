import { ByteWriter, writeRecord } from "@vmstream/framing";
import {
  LIBXC_ID,
  LIBXC_PAGE_TYPES,
  LIBXC_RECORD_SCOPE,
  LIBXC_VCPU_CONTEXT_SIZE,
  LIBXL_IDENT,
  XL_BYTEORDER,
  XL_MAGIC,
  versionOf,
} from "@vmstream/wire-spec";
import fc from "fast-check";

/*
 * Valid Xen streams as plain values, shaped like @vmstream/libxl's record
 * values (so its writer takes them as they are), plus a small encoder of our
 * own built on framing's ByteWriter: tests compare it with the codec's writer,
 * and feed its bytes to Xen's verify-stream-v2.
 */

export interface XenPage {
  pfn: number;
  type: string;
}
export type XenLibxcRecord =
  | { type: "END" | "VERIFY" | "STATIC_DATA_END" }
  | { type: "PAGE_DATA"; pages: XenPage[]; data: Uint8Array }
  | { type: "X86_PV_INFO"; guest_width: number; pt_levels: number }
  | { type: "X86_PV_P2M_FRAMES"; start_pfn: number; end_pfn: number; frames: bigint[] }
  | { type: "X86_PV_VCPU_BASIC" | "X86_PV_VCPU_EXTENDED" | "X86_PV_VCPU_XSAVE" | "X86_PV_VCPU_MSRS"; vcpu_id: number; context: Uint8Array }
  | { type: "SHARED_INFO" | "HVM_CONTEXT"; data: Uint8Array }
  | { type: "X86_TSC_INFO"; mode: number; khz: number; nsec: bigint; incarnation: number }
  | { type: "HVM_PARAMS"; params: Array<{ index: bigint; value: bigint }> }
  | { type: "X86_CPUID_POLICY"; leaves: Array<{ leaf: number; subleaf: number; a: number; b: number; c: number; d: number }> }
  | { type: "X86_MSR_POLICY"; msrs: Array<{ index: number; value: bigint }> }
  | { type: "OPTIONAL"; code: number; body: Uint8Array };

export interface XenLibxcImage {
  header: { version: 2 | 3; domainType: number; pageShift: number; xenMajor: number; xenMinor: number };
  records: XenLibxcRecord[];
}

export type XenLibxlRecord =
  | { type: "END" | "LIBXC_CONTEXT" }
  | { type: "EMULATOR_XENSTORE_DATA"; emulator_id: number; index: number; entries: Array<[string, string]> }
  | { type: "EMULATOR_CONTEXT"; emulator_id: number; index: number; data: Uint8Array };

export interface XenLibxlStream {
  options: number;
  image: XenLibxcImage;
  /** libxl records after the libxc image (END last). */
  after: XenLibxlRecord[];
}

export interface XenXlFile {
  config: string | null;
  libxl: XenLibxlStream;
}

export interface LibxcArbitraryOptions {
  version?: 2 | 3;
  guest?: "pv" | "hvm";
  /** Add optional (bit 31) records, which Xen's verifier rejects but the spec allows. */
  optionalRecords?: boolean;
  maxPageRecords?: number;
  maxPfnsPerRecord?: number;
}

const CODE = new Map(versionOf("libxc", "3").records.map((r) => [r.name, r.code]));
const PAGE_TYPES = LIBXC_PAGE_TYPES.flatMap((t) => (t ? [t] : []));
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn });

/** A page: a repeated fill byte with a few random bytes at the front (cheap to generate, still distinct). */
const page = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ minLength: 0, maxLength: 8 })).map(([fill, head]) => {
  const p = new Uint8Array(4096).fill(fill);
  p.set(head);
  return p;
});

function pageData(maxPfn: number, maxPfns: number): fc.Arbitrary<XenLibxcRecord> {
  const entry = fc.record({ pfn: fc.integer({ min: 0, max: maxPfn }), t: fc.constantFrom(...PAGE_TYPES), p: page });
  return fc.array(entry, { minLength: 1, maxLength: maxPfns }).map((es) => {
    const withData = es.filter((e) => e.t.data);
    const data = new Uint8Array(4096 * withData.length);
    withData.forEach((e, i) => data.set(e.p, 4096 * i));
    return { type: "PAGE_DATA", pages: es.map((e) => ({ pfn: e.pfn, type: e.t.name })), data };
  });
}

const tsc = fc.record({ mode: fc.integer({ min: 0, max: 3 }), khz: u32, nsec: u64, incarnation: u32 }).map((t) => ({ type: "X86_TSC_INFO" as const, ...t }));
const cpuid = fc
  .array(fc.record({ leaf: u32, subleaf: u32, a: u32, b: u32, c: u32, d: u32 }), { minLength: 1, maxLength: 4 })
  .map((leaves) => ({ type: "X86_CPUID_POLICY" as const, leaves }));
const msr = fc.array(fc.record({ index: u32, value: u64 }), { minLength: 1, maxLength: 4 }).map((msrs) => ({ type: "X86_MSR_POLICY" as const, msrs }));
const optional = fc
  .record({ code: fc.integer({ min: 0x8000_0000, max: 0xffff_ffff }), body: fc.uint8Array({ maxLength: 24 }) })
  .map((o) => ({ type: "OPTIONAL" as const, ...o }));

/**
 * Valid libxc images: records allowed for the guest type (the wire-spec's
 * scope table), STATIC_DATA_END where version 3 needs it, PV ordering
 * (X86_PV_INFO → X86_PV_P2M_FRAMES → PAGE_DATA → vcpus, vcpu0 BASIC present),
 * PAGE_DATA lengths by the data-bearing rule, END last.
 */
export function libxcImage(opts: LibxcArbitraryOptions = {}): fc.Arbitrary<XenLibxcImage> {
  const version = opts.version ? fc.constant(opts.version) : fc.constantFrom<2 | 3>(2, 3);
  const guest = opts.guest ? fc.constant(opts.guest) : fc.constantFrom<"pv" | "hvm">("pv", "hvm");
  const maxRecs = opts.maxPageRecords ?? 3;
  const maxPfns = opts.maxPfnsPerRecord ?? 4;
  return fc.tuple(version, guest).chain(([v, g]) => {
    const head = fc.record({ xenMajor: fc.integer({ min: 0, max: 0xffff }), xenMinor: fc.integer({ min: 0, max: 0xffff }) });
    const policies = v === 3 ? fc.tuple(fc.option(cpuid, { nil: undefined }), fc.option(msr, { nil: undefined })) : fc.constant([undefined, undefined] as const);
    const opt = opts.optionalRecords ? fc.array(optional, { maxLength: 2 }) : fc.constant([]);
    if (g === "hvm") {
      const params = fc
        .array(fc.record({ index: u64, value: u64 }), { minLength: 1, maxLength: 5 })
        .map((params) => ({ type: "HVM_PARAMS" as const, params }));
      const ctx = fc.uint8Array({ minLength: 1, maxLength: 96 }).map((data) => ({ type: "HVM_CONTEXT" as const, data }));
      return fc
        .record({
          head,
          policies,
          pages: fc.array(pageData(2 ** 40, maxPfns), { minLength: 1, maxLength: maxRecs }),
          tsc: fc.option(tsc, { nil: undefined }),
          params,
          ctx,
          paramsFirst: fc.boolean(),
          opt,
        })
        .map((x): XenLibxcImage => {
          const records: XenLibxcRecord[] = [...x.opt];
          for (const p of x.policies) if (p) records.push(p);
          if (v === 3) records.push({ type: "STATIC_DATA_END" });
          records.push(...x.pages);
          if (x.tsc) records.push(x.tsc);
          records.push(...(x.paramsFirst ? [x.params, x.ctx] : [x.ctx, x.params]));
          records.push({ type: "END" });
          return { header: { version: v, domainType: 2, pageShift: 12, ...x.head }, records };
        });
    }
    return fc
      .record({ head, policies, width: fc.constantFrom(4, 8), maxPfn: fc.integer({ min: 0, max: 0x3fff }), nvcpu: fc.integer({ min: 1, max: 3 }), opt })
      .chain((b) => {
        const vcpu = (id: number) =>
          fc
            .record({
              basic: page.map((p) => {
                const size = LIBXC_VCPU_CONTEXT_SIZE[b.width]!;
                const c = new Uint8Array(size);
                c.set(p.subarray(0, Math.min(4096, size)));
                return c;
              }),
              ext: fc.option(fc.uint8Array({ minLength: 1, maxLength: 128 }), { nil: undefined }),
              xsave: fc.option(fc.uint8Array({ minLength: 16, maxLength: 80 }), { nil: undefined }),
              msrs: fc.option(fc.integer({ min: 1, max: 4 }).chain((n) => fc.uint8Array({ minLength: 16 * n, maxLength: 16 * n })), { nil: undefined }),
            })
            .map((c) => {
              const out: XenLibxcRecord[] = [{ type: "X86_PV_VCPU_BASIC", vcpu_id: id, context: c.basic }];
              if (c.ext) out.push({ type: "X86_PV_VCPU_EXTENDED", vcpu_id: id, context: c.ext });
              if (c.xsave) out.push({ type: "X86_PV_VCPU_XSAVE", vcpu_id: id, context: c.xsave });
              if (c.msrs) out.push({ type: "X86_PV_VCPU_MSRS", vcpu_id: id, context: c.msrs });
              return out;
            });
        const fpp = 4096 / b.width;
        return fc
          .record({
            frames: fc.array(u64, { minLength: Math.floor(b.maxPfn / fpp) + 1, maxLength: Math.floor(b.maxPfn / fpp) + 1 }),
            pages: fc.array(pageData(b.maxPfn, maxPfns), { minLength: 1, maxLength: maxRecs }),
            tsc: fc.option(tsc, { nil: undefined }),
            shared: page,
            vcpus: fc.tuple(...Array.from({ length: b.nvcpu }, (_, i) => vcpu(i))),
          })
          .map((x): XenLibxcImage => {
            const records: XenLibxcRecord[] = [...b.opt, { type: "X86_PV_INFO", guest_width: b.width, pt_levels: b.width === 8 ? 4 : 3 }];
            for (const p of b.policies) if (p) records.push(p);
            if (v === 3) records.push({ type: "STATIC_DATA_END" });
            records.push({ type: "X86_PV_P2M_FRAMES", start_pfn: 0, end_pfn: b.maxPfn, frames: x.frames }, ...x.pages);
            if (x.tsc) records.push(x.tsc);
            records.push({ type: "SHARED_INFO", data: x.shared }, ...x.vcpus.flat(), { type: "END" });
            return { header: { version: v, domainType: 1, pageShift: 12, ...b.head }, records };
          });
      });
  });
}

/** Xenstore keys use the protocol's characters (alphanumerics and -/_@), `__proto__` included on purpose. */
const xsKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "physmap/f0000000/start_addr", "physmap/f0000000/name"),
  fc.stringMatching(/^[A-Za-z0-9\-/_@]{1,24}$/),
);
const xsValue = fc.stringMatching(/^[ -~]{0,24}$/);

export interface LibxlArbitraryOptions extends LibxcArbitraryOptions {
  legacy?: boolean;
}

/** Valid libxl streams: header, LIBXC_CONTEXT and a libxc image, emulator records for HVM, END. */
export function libxlStream(opts: LibxlArbitraryOptions = {}): fc.Arbitrary<XenLibxlStream> {
  return fc
    .record({
      image: libxcImage({ ...opts, optionalRecords: false }),
      legacy: opts.legacy === undefined ? fc.boolean() : fc.constant(opts.legacy),
      xs: fc.option(fc.array(fc.tuple(xsKey, xsValue), { maxLength: 4 }), { nil: undefined }),
      emu: fc.constantFrom(0, 1, 2),
      ctx: fc.uint8Array({ maxLength: 64 }),
    })
    .map((x): XenLibxlStream => {
      const after: XenLibxlRecord[] = [];
      if (x.image.header.domainType === 2) {
        if (x.xs) after.push({ type: "EMULATOR_XENSTORE_DATA", emulator_id: x.emu, index: 0, entries: x.xs });
        after.push({ type: "EMULATOR_CONTEXT", emulator_id: x.emu, index: 0, data: x.ctx });
      }
      after.push({ type: "END" });
      return { options: x.legacy ? 2 : 0, image: x.image, after };
    });
}

/** Valid xl save files: STREAMv2, a JSON config or none, then a libxl stream. */
export function xlFile(opts: LibxlArbitraryOptions = {}): fc.Arbitrary<XenXlFile> {
  return fc.record({
    config: fc.option(fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ c_info: { name: "guest" }, extra: v })), { nil: null }),
    libxl: libxlStream(opts),
  });
}

// ---- an encoder of our own (little-endian, as Xen writes) ----

function recordBody(w: ByteWriter, r: XenLibxcRecord): void {
  switch (r.type) {
    case "END":
    case "VERIFY":
    case "STATIC_DATA_END":
      return;
    case "PAGE_DATA": {
      w.u32le(r.pages.length).u32le(0);
      for (const p of r.pages) {
        const nib = PAGE_TYPES.find((t) => t.name === p.type)!.nibble;
        w.u64le((BigInt(nib) << 60n) | BigInt(p.pfn));
      }
      w.bytes(r.data);
      return;
    }
    case "X86_PV_INFO":
      w.u8(r.guest_width).u8(r.pt_levels).zeros(6);
      return;
    case "X86_PV_P2M_FRAMES":
      w.u32le(r.start_pfn).u32le(r.end_pfn);
      for (const f of r.frames) w.u64le(f);
      return;
    case "X86_PV_VCPU_BASIC":
    case "X86_PV_VCPU_EXTENDED":
    case "X86_PV_VCPU_XSAVE":
    case "X86_PV_VCPU_MSRS":
      w.u32le(r.vcpu_id).u32le(0).bytes(r.context);
      return;
    case "SHARED_INFO":
    case "HVM_CONTEXT":
      w.bytes(r.data);
      return;
    case "X86_TSC_INFO":
      w.u32le(r.mode).u32le(r.khz).u64le(r.nsec).u32le(r.incarnation).u32le(0);
      return;
    case "HVM_PARAMS":
      w.u32le(r.params.length).u32le(0);
      for (const p of r.params) w.u64le(p.index).u64le(p.value);
      return;
    case "X86_CPUID_POLICY":
      for (const l of r.leaves) w.u32le(l.leaf).u32le(l.subleaf).u32le(l.a).u32le(l.b).u32le(l.c).u32le(l.d);
      return;
    case "X86_MSR_POLICY":
      for (const m of r.msrs) w.u32le(m.index).u32le(0).u64le(m.value);
      return;
    case "OPTIONAL":
      w.bytes(r.body);
  }
}

function libxcInto(out: ByteWriter, img: XenLibxcImage): void {
  const h = img.header;
  out.u64be(0xffff_ffff_ffff_ffffn).u32be(LIBXC_ID).u32be(h.version).u16be(0).u16be(0).u32be(0);
  out.u32le(h.domainType).u16le(h.pageShift).u16le(0).u32le(h.xenMajor).u32le(h.xenMinor);
  const body = new ByteWriter(4096);
  for (const r of img.records) {
    recordBody(body.reset(), r);
    writeRecord(out, r.type === "OPTIONAL" ? r.code : CODE.get(r.type)!, body.finish(), true);
  }
}

export function libxcImageBytes(img: XenLibxcImage): Uint8Array {
  const w = new ByteWriter(1 << 16);
  libxcInto(w, img);
  return w.finish().slice();
}

const LIBXL_CODE = { END: 0, LIBXC_CONTEXT: 1, EMULATOR_XENSTORE_DATA: 2, EMULATOR_CONTEXT: 3 } as const;

function libxlInto(w: ByteWriter, s: XenLibxlStream): void {
  w.u64be(LIBXL_IDENT).u32be(2).u32be(s.options);
  writeRecord(w, LIBXL_CODE.LIBXC_CONTEXT, new Uint8Array(0), true);
  libxcInto(w, s.image);
  const body = new ByteWriter(256);
  for (const r of s.after) {
    body.reset();
    if (r.type === "EMULATOR_XENSTORE_DATA") {
      body.u32le(r.emulator_id).u32le(r.index);
      for (const [k, v] of r.entries) for (const str of [k, v]) body.bytes(Uint8Array.from(str, (c) => c.charCodeAt(0))).u8(0);
    } else if (r.type === "EMULATOR_CONTEXT") body.u32le(r.emulator_id).u32le(r.index).bytes(r.data);
    writeRecord(w, LIBXL_CODE[r.type], body.finish(), true);
  }
}

export function libxlStreamBytes(s: XenLibxlStream): Uint8Array {
  const w = new ByteWriter(1 << 16);
  libxlInto(w, s);
  return w.finish().slice();
}

export function xlFileBytes(f: XenXlFile): Uint8Array {
  const w = new ByteWriter(1 << 16);
  const cfg = f.config === null ? null : new TextEncoder().encode(`${f.config}\0`);
  w.bytes(Uint8Array.from(XL_MAGIC, (c) => c.charCodeAt(0))).u32le(XL_BYTEORDER);
  w.u32le(cfg ? 3 : 2).u32le(0).u32le(4 + (cfg?.byteLength ?? 0)).u32le(cfg?.byteLength ?? 0);
  if (cfg) w.bytes(cfg);
  libxlInto(w, f.libxl);
  return w.finish().slice();
}

/** The scope table, re-exported for tests that place records by guest type. */
export const libxcRecordScope = LIBXC_RECORD_SCOPE;
