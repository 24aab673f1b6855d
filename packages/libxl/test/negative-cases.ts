/**
 * The mutation table of shared/tools/xenpeer/neg_tests.py, rebuilt byte for
 * byte, with what Debian's verify-stream-v2 (4.17) answered for each case as
 * recorded in shared/research/xen-verify-negative.md (`peer`: its exit code).
 * `ours` differs from the peer only where the spec or Xen's restore code says
 * the peer is wrong; `why` says which (docs/spec/libxc.md lists them too).
 */

const enc = new TextEncoder();
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
};
const bytes = (n: number, fill = 0) => new Uint8Array(n).fill(fill);
const le = (...words: Array<[number | bigint, 1 | 2 | 4 | 8]>): Uint8Array => {
  const out = new Uint8Array(words.reduce((n, [, s]) => n + s, 0));
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [x, s] of words) {
    if (s === 8) v.setBigUint64(o, BigInt(x), true);
    else if (s === 4) v.setUint32(o, Number(x), true);
    else if (s === 2) v.setUint16(o, Number(x), true);
    else v.setUint8(o, Number(x));
    o += s;
  }
  return out;
};
const be = (...words: Array<[number | bigint, 2 | 4 | 8]>): Uint8Array => {
  const out = new Uint8Array(words.reduce((n, [, s]) => n + s, 0));
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [x, s] of words) {
    if (s === 8) v.setBigUint64(o, BigInt(x), false);
    else if (s === 4) v.setUint32(o, Number(x), false);
    else v.setUint16(o, Number(x), false);
    o += s;
  }
  return out;
};
const pad8 = (b: Uint8Array) => cat(b, bytes((8 - (b.byteLength % 8)) % 8));
export const raw = (type: number, body: Uint8Array = new Uint8Array(0)) => cat(le([type, 4], [body.byteLength, 4]), pad8(body));

const M64 = 0xffff_ffff_ffff_ffffn;
const ihdrRaw = (marker: bigint, id: number, version: number, options: number, r1: number, r2: number) =>
  be([marker, 8], [id, 4], [version, 4], [options, 2], [r1, 2], [r2, 4]);
const ihdr = (version = 3, options = 0) => ihdrRaw(M64, 0x58454e46, version, options, 0, 0);
const dhdr = (type = 2, shift = 12, major = 4, minor = 17) => le([type, 4], [shift, 2], [0, 2], [major, 4], [minor, 4]);

const H2 = cat(ihdr(2), dhdr());
const H3 = cat(ihdr(3), dhdr());
const SDE = raw(0x10);
const END = raw(0);
const hvmBlob = cat(le([1, 2], [0, 2], [24, 4]), le([0x54381286, 4], [1, 4], [0n, 8], [0, 4], [2000000, 4]), le([0, 2], [0, 2], [0, 4]));
const CTX = raw(9, hvmBlob);
const PG = bytes(4096, 0x5a);
const v3 = (...recs: Uint8Array[]) => cat(H3, SDE, ...recs, END);
const XTAB = (pfn: number) => (0xfn << 60n) | BigInt(pfn);

const libxlHdr = (options = 0, version = 2) => be([0x4c6962786c466d74n, 8], [version, 4], [options, 4]);
const L_HDR = libxlHdr();
const LXC = cat(raw(1), v3(CTX));
const L_END = raw(0);
const XL_MAGIC = enc.encode("Xen saved domain, xl format\n \0 \r");
const xlHdr = (mandatory = 2) => cat(XL_MAGIC, le([0x01020304, 4], [mandatory, 4], [0, 4], [0, 4]));

export interface NegCase {
  name: string;
  fmt: "libxc" | "libxl" | "xl";
  bytes: Uint8Array;
  /** verify-stream-v2's exit code, from the recorded table. */
  peer: 0 | 1 | 2;
  /** Our verdict, when it differs from the peer's. */
  ours?: "accept" | "reject";
  why?: string;
  /** The exit code once our shim corrects the peer's two Python 3 defects (test/peer/verify_batch.py). */
  shim?: 0 | 1;
}

const c = (name: string, bytes: Uint8Array, peer: 0 | 1 | 2, fmt: NegCase["fmt"] = "libxc", ours?: NegCase["ours"], why?: string): NegCase => ({
  name,
  fmt,
  bytes,
  peer,
  ...(ours ? { ours, why } : {}),
});

const shimmed = (shim: 0 | 1, x: NegCase): NegCase => ({ ...x, shim });
const BE = "the spec allows only little-endian x86 images and Xen's restore refuses big-endian ones; the peer's check masks with the bit number (a no-op)";
const HVM_PV = "a PV record in an HVM image: Xen's HVM restore has no handler for it, so the mandatory record fails the restore";

export const negativeCases: NegCase[] = [
  c("baseline v3", v3(CTX), 0),
  c("bad marker", cat(ihdrRaw(0xffff_ffff_ffff_fffen, 0x58454e46, 3, 0, 0, 0), dhdr(), SDE, END), 1),
  c("bad id", cat(ihdrRaw(M64, 0x58454e47, 3, 0, 0, 0), dhdr(), SDE, END), 1),
  c("version 1", cat(ihdr(1), dhdr(), END), 1),
  c("version 4", cat(ihdr(4), dhdr(), END), 1),
  c("options bit1 (reserved)", cat(ihdr(3, 2), dhdr(), SDE, END), 1),
  { ...c("options bit0 (big-endian)", cat(ihdr(3, 1), dhdr(), SDE, END), 0, "libxc", "reject", BE), shim: 1 },
  c("ihdr reserved nonzero", cat(ihdrRaw(M64, 0x58454e46, 3, 0, 0, 1), dhdr(), SDE, END), 1),
  c("dhdr type 3", cat(ihdr(3), dhdr(3), SDE, END), 1),
  c("dhdr type 0", cat(ihdr(3), dhdr(0), SDE, END), 1),
  c("dhdr reserved nonzero", cat(ihdr(3), le([2, 4], [12, 2], [1, 2], [4, 4], [17, 4]), SDE, END), 1),
  c("page_shift 16", cat(ihdr(3), dhdr(2, 16), SDE, END), 1),
  c("xen_major 0 (legacy-converted)", cat(ihdr(3), dhdr(2, 12, 0, 1), SDE, END), 0),
  c("unknown mandatory type 0x13", v3(raw(0x13)), 1),
  c(
    "unknown optional type 0x80000000",
    v3(raw(0x80000000, enc.encode("abc"))),
    1,
    "libxc",
    "accept",
    "the spec: records with bit 31 set are optional and may be ignored (libxc restore skips them); the peer knows no optional records",
  ),
  c("nonzero padding", cat(H3, SDE, le([9, 4], [1, 4]), Uint8Array.of(1, 2), bytes(6), END), 1),
  c("END with body", cat(H3, SDE, raw(0, enc.encode("x"))), 1),
  c("PAGE_DATA header only (count 0)", v3(raw(1, le([0, 4], [0, 4]))), 1),
  c("PAGE_DATA reserved nonzero", v3(raw(1, le([1, 4], [7, 4], [XTAB(1), 8]))), 1),
  c("PAGE_DATA count > pfns", v3(raw(1, le([2, 4], [0, 4], [XTAB(1), 8]))), 1),
  c("PAGE_DATA pfn bits 52-59 set", v3(raw(1, cat(le([1, 4], [0, 4], [(1n << 52n) | 1n, 8]), PG))), 1),
  c("PAGE_DATA type 0x5", v3(raw(1, cat(le([1, 4], [0, 4], [(5n << 60n) | 1n, 8]), PG))), 1),
  c("PAGE_DATA missing page bytes", v3(raw(1, le([1, 4], [0, 4], [1, 8]))), 1),
  c("PAGE_DATA extra page for XTAB", v3(raw(1, cat(le([1, 4], [0, 4], [XTAB(1), 8]), PG))), 1),
  c("PAGE_DATA count=0 but pfn present", v3(raw(1, le([0, 4], [0, 4], [1, 8]))), 1),
  c("X86_PV_INFO len 4", v3(raw(2, Uint8Array.of(8, 4, 0, 0))), 1),
  c("X86_PV_INFO width 2", v3(raw(2, cat(Uint8Array.of(2, 4), bytes(6)))), 1),
  c("X86_PV_INFO levels 2", v3(raw(2, cat(Uint8Array.of(8, 2), bytes(6)))), 1),
  c("X86_PV_INFO reserved", v3(raw(2, le([8, 1], [4, 1], [1, 2], [0, 4]))), 1),
  c("P2M_FRAMES len 4", v3(raw(3, bytes(4))), 1),
  c("P2M_FRAMES len 12", v3(raw(3, bytes(12))), 1),
  c("VCPU_BASIC len 4", v3(raw(4, bytes(4))), 1),
  c("VCPU_BASIC len 8 (no content)", v3(raw(4, bytes(8))), 0, "libxc", "reject", HVM_PV),
  c("VCPU_XSAVE reserved", v3(raw(6, cat(le([0, 4], [1, 4]), enc.encode("x")))), 1),
  c("SHARED_INFO 4095", v3(raw(7, bytes(4095))), 1),
  c("TSC_INFO len 16", v3(raw(8, bytes(16))), 1),
  c("TSC_INFO reserved", v3(raw(8, le([0, 4], [1, 4], [0, 8], [0, 4], [9, 4]))), 1),
  c("HVM_CONTEXT empty", v3(raw(9)), 1),
  c("HVM_PARAMS len 4", v3(raw(10, bytes(4))), 1),
  c("HVM_PARAMS reserved", v3(raw(10, le([0, 4], [1, 4]))), 1),
  c("HVM_PARAMS count 0", v3(raw(10, le([0, 4], [0, 4]))), 0),
  c("HVM_PARAMS count mismatch", v3(raw(10, le([2, 4], [0, 4], [1, 8], [2, 8]))), 1),
  c("TOOLSTACK", v3(raw(0xb, enc.encode("blob"))), 2),
  c("VERIFY with body", v3(raw(0xd, enc.encode("x"))), 1),
  c("VERIFY empty", v3(raw(0xd)), 0),
  c("CHECKPOINT empty", v3(raw(0xe)), 0),
  c("CHECKPOINT with body", v3(raw(0xe, enc.encode("x"))), 1),
  c("CHECKPOINT_DIRTY_PFN_LIST", v3(raw(0xf, le([1, 8]))), 1),
  c("STATIC_DATA_END in v2", cat(H2, SDE, END), 1),
  c("STATIC_DATA_END with body", cat(H3, raw(0x10, enc.encode("x")), END), 1),
  c("two STATIC_DATA_END", cat(H3, SDE, SDE, END), 0, "libxc", "reject", "libxc restore: \"Multiple STATIC_DATA_END records found\""),
  c(
    "v3 without STATIC_DATA_END",
    cat(H3, raw(1, cat(le([1, 4], [0, 4], [1, 8]), PG)), END),
    0,
    "libxc",
    "reject",
    "the spec mandates STATIC_DATA_END before any memory in v3; libxc restore: \"No STATIC_DATA_END seen\"",
  ),
  c("CPUID_POLICY in v2", cat(H2, raw(0x11, bytes(24)), END), 1),
  c("CPUID_POLICY len 20", cat(H3, raw(0x11, bytes(20)), SDE, END), 1),
  c("MSR_POLICY in v2", cat(H2, raw(0x12, bytes(16)), END), 1),
  c("MSR_POLICY len 8", cat(H3, raw(0x12, bytes(8)), SDE, END), 1),
  c("truncated (no END)", cat(H3, SDE), 1),
  c("truncated mid-record", cat(H3, SDE, le([9, 4], [40, 4]), bytes(8)), 1),
  c("trailing garbage after END", cat(v3(CTX), enc.encode("garbage!")), 0, "libxc", "reject", "END \"shall be the final record in the stream\"; the peer stops reading at END"),

  c("libxl baseline", cat(L_HDR, LXC, L_END), 0, "libxl"),
  c("libxl bad ident", cat(be([0x4c6962786c466d75n, 8], [2, 4], [0, 4]), L_END), 1, "libxl"),
  c("libxl version 3", cat(libxlHdr(0, 3), L_END), 1, "libxl"),
  c("libxl version 1", cat(libxlHdr(0, 1), L_END), 1, "libxl"),
  c("libxl options bit2", cat(libxlHdr(4), L_END), 1, "libxl"),
  { ...c("libxl options bit0 (BE)", cat(libxlHdr(1), L_END), 0, "libxl", "reject", BE), shim: 1 },
  c("libxl options bit1 (legacy)", cat(libxlHdr(2), L_END), 0, "libxl"),
  c("libxl unknown type 6", cat(L_HDR, raw(6), L_END), 1, "libxl"),
  c(
    "libxl unknown optional 0x80000001",
    cat(L_HDR, raw(0x80000001), L_END),
    1,
    "libxl",
    "accept",
    "the spec reserves 0x80000000–0xffffffff for optional records; we carry them (libxl itself, like the peer, rejects every unknown type)",
  ),
  c("libxl END with body", cat(L_HDR, raw(0, enc.encode("x"))), 1, "libxl"),
  c("libxl LIBXC_CONTEXT with body", cat(L_HDR, raw(1, enc.encode("x")), v3(CTX), L_END), 1, "libxl"),
  c("libxl nonzero padding", cat(L_HDR, le([3, 4], [9, 4]), le([2, 4], [0, 4]), enc.encode("A"), bytes(7, 1), L_END), 1, "libxl"),
  c("EMU_XENSTORE len 4", cat(L_HDR, raw(2, bytes(4)), L_END), 1, "libxl"),
  c("EMU_XENSTORE emu id 3", cat(L_HDR, raw(2, le([3, 4], [0, 4])), L_END), 1, "libxl"),
  c("EMU_XENSTORE header only", cat(L_HDR, raw(2, le([2, 4], [0, 4])), L_END), 0, "libxl"),
  shimmed(0, c(
    "EMU_XENSTORE 'a\\0b\\0' (py3 bug)",
    cat(L_HDR, raw(2, cat(le([2, 4], [0, 4]), enc.encode("a\0b\0"))), L_END),
    1,
    "libxl",
    "accept",
    "a valid key/value pair; the peer compares a byte with a str under Python 3 and rejects every non-empty payload",
  )),
  c("EMU_CONTEXT len 4", cat(L_HDR, raw(3, bytes(4)), L_END), 1, "libxl"),
  c("EMU_CONTEXT emu id 0 (unknown)", cat(L_HDR, raw(3, le([0, 4], [0, 4])), L_END), 0, "libxl"),
  c("EMU_CONTEXT emu id 9", cat(L_HDR, raw(3, le([9, 4], [0, 4])), L_END), 1, "libxl"),
  c(
    "CHECKPOINT_END empty",
    cat(L_HDR, raw(4), L_END),
    0,
    "libxl",
    "reject",
    "CHECKPOINT_END outside a checkpoint: libxl restore fails (\"Unexpected CHECKPOINT_END record in stream\")",
  ),
  c("CHECKPOINT_END with body", cat(L_HDR, raw(4, enc.encode("x")), L_END), 1, "libxl"),
  c("CHECKPOINT_STATE empty", cat(L_HDR, raw(5), L_END), 1, "libxl"),
  c("CHECKPOINT_STATE id 7", cat(L_HDR, raw(5, le([7, 4])), L_END), 0, "libxl"),
  c("libxl no END", cat(L_HDR, LXC), 1, "libxl"),

  c("xl baseline", cat(xlHdr(2), L_HDR, LXC, L_END), 0, "xl"),
  c("xl bad magic", cat(bytes(32, 0x58), le([0x01020304, 4], [2, 4], [0, 4], [0, 4]), L_HDR, L_END), 1, "xl"),
  c(
    "xl mflags=0 -> treated as libxc",
    cat(xlHdr(0), v3(CTX)),
    0,
    "xl",
    "reject",
    "without STREAMv2 xl hands the payload to convert-legacy-stream as a legacy image; it is not a libxc stream (the legacy family reads such files)",
  ),
  c(
    "xl byteorder wrong (not checked)",
    cat(XL_MAGIC, le([0x04030201, 4], [2, 4], [0, 4], [0, 4]), L_HDR, LXC, L_END),
    0,
    "xl",
    "reject",
    "xl restore refuses a byte order other than its own (\"File has wrong byte order\")",
  ),
];
