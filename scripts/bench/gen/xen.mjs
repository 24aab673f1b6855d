import { FileWriter } from "./file-writer.mjs";
import { prng } from "./prng.mjs";

/**
 * Xen bench inputs written record by record (the codecs' own writers build a
 * whole image in memory, which a 512 MiB / 1 GiB input must not need).
 * Layouts from research/xen.md §3 (libxc v3) and §6.1 (legacy HVM, 64-bit
 * toolstack). Page contents come from a 16 MiB random pool.
 */
const PAGE = 4096;
const POOL_PAGES = 4096;

function pagePool() {
  return prng(0xfeed).fill(new Uint8Array(POOL_PAGES * PAGE));
}
const poolPage = (pool, i) => {
  const k = ((i * 2654435761) >>> 0) % POOL_PAGES;
  return pool.subarray(k * PAGE, (k + 1) * PAGE);
};

/** The 40-byte minimal HVM context blob: HEADER {magic, version 1, …} + END (§3.6). */
function hvmContextBlob(w) {
  w.u16(1);
  w.u16(0);
  w.u32(24);
  w.u32(0x54381286);
  w.u32(1);
  w.u64(0);
  w.u32(0x000306c3); // CPUID.1.EAX of the saving CPU
  w.u32(2_000_000); // guest TSC kHz
  w.u16(0);
  w.u16(0);
  w.u32(0);
}

function record(w, type, length, body) {
  w.u32(type);
  w.u32(length);
  body();
  w.zeros((8 - (length % 8)) % 8);
}

/**
 * libxc v3 HVM image: headers, STATIC_DATA_END, PAGE_DATA records of
 * `perRecord` pages covering `ramBytes`, X86_TSC_INFO, HVM_CONTEXT,
 * HVM_PARAMS, END — the real writer's order (§3.8).
 */
export function generateLibxc(path, ramBytes, perRecord) {
  const w = new FileWriter(path);
  const pool = pagePool();
  // Image header (big-endian) and domain header.
  w.u32(0xffffffff, false);
  w.u32(0xffffffff, false);
  w.u32(0x58454e46, false);
  w.u32(3, false);
  w.u16(0, false);
  w.u16(0, false);
  w.u32(0, false);
  w.u32(2); // x86 HVM
  w.u16(12);
  w.u16(0);
  w.u32(4);
  w.u32(17);
  record(w, 0x10, 0, () => {}); // STATIC_DATA_END
  const pages = Math.floor(ramBytes / PAGE);
  let records = 1;
  for (let pfn = 0; pfn < pages; pfn += perRecord) {
    const n = Math.min(perRecord, pages - pfn);
    record(w, 0x01, 8 + 8 * n + PAGE * n, () => {
      w.u32(n);
      w.u32(0);
      for (let i = 0; i < n; i++) w.u64(pfn + i); // type 0 (NOTAB) in bits 63–60
      for (let i = 0; i < n; i++) w.bytes(poolPage(pool, pfn + i));
    });
    records++;
  }
  record(w, 0x08, 24, () => {
    w.u32(0);
    w.u32(2_000_000);
    w.u64(123_456_789);
    w.u32(1);
    w.u32(0);
  });
  record(w, 0x09, 40, () => hvmContextBlob(w));
  const params = [
    [1, 0xfeffc],
    [5, 0xfeff0],
    [6, 0xfeff1],
    [12, 0xfeffd000],
  ];
  record(w, 0x0a, 8 + 16 * params.length, () => {
    w.u32(params.length);
    w.u32(0);
    for (const [k, v] of params) {
      w.u64(k);
      w.u64(v);
    }
  });
  record(w, 0x00, 0, () => {}); // END
  return { size: w.close(), records: records + 4 };
}

/**
 * Legacy (Xen ≤ 4.5) HVM image from a 64-bit toolstack: p2m_size, tsc_info,
 * two HVM param chunks, page batches of 1024, the end-of-body chunk, the HVM
 * tail (ioreq/bufioreq/store pfns, context blob) and a DeviceModelRecord0002
 * QEMU record. Convert with `--width 64 --guest hvm`.
 */
export function generateLegacy(path, ramBytes) {
  const w = new FileWriter(path);
  const pool = pagePool();
  const pages = Math.floor(ramBytes / PAGE);
  w.u64(pages); // p2m_size
  w.u32(-7 >>> 0); // tsc_info: mode, nsec, khz, incarnation (packed)
  w.u32(0);
  w.u64(123_456_789);
  w.u32(2_000_000);
  w.u32(1);
  for (const [id, v] of [
    [-3, 0xfeffd000],
    [-8, 0xfeffb],
  ]) {
    w.u32(id >>> 0);
    w.u32(0);
    w.u64(v);
  }
  for (let pfn = 0; pfn < pages; pfn += 1024) {
    const n = Math.min(1024, pages - pfn);
    w.u32(n);
    for (let i = 0; i < n; i++) w.u64(pfn + i); // type 0 in bits 31–28 of the ulong
    for (let i = 0; i < n; i++) w.bytes(poolPage(pool, pfn + i));
  }
  w.u32(0); // end of body
  w.u64(0xfeff0); // ioreq pfn
  w.u64(0xfeff1); // bufioreq pfn
  w.u64(0xfeffc); // store pfn
  w.u32(40);
  hvmContextBlob(w);
  w.bytes(new TextEncoder().encode("DeviceModelRecord0002"));
  const qemu = new TextEncoder().encode("QEVM\0\0\0\x03");
  w.u32(qemu.byteLength);
  w.bytes(qemu);
  return { size: w.close() };
}
