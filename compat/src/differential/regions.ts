/**
 * Where the bytes of a stream belong, so mutations can be aimed at the parts a
 * loader reads differently: section headers, device bodies, RAM record
 * headers, RAM page data, the vmdesc trailer (QEMU), record headers and bodies (Xen).
 */
export type Region = "section-header" | "device-body" | "ram-header" | "ram-data" | "vmdesc" | "record-header" | "record-body";

/** Half-open byte ranges of one region. */
export type RegionMap = Partial<Record<Region, [number, number][]>>;

interface QemuSection {
  offset: number;
  kind: string;
  idstr: string;
  size: number;
}

/** The parts of a QEMU stream, from `vmstream inspect --json` of the unmutated stream. */
export function qemuRegions(bytes: Uint8Array, summary: { sections: QemuSection[]; eof: number | null; size: number }): RegionMap {
  const map: Required<Pick<RegionMap, "section-header" | "device-body" | "ram-header" | "ram-data" | "vmdesc">> = {
    "section-header": [],
    "device-body": [],
    "ram-header": [],
    "ram-data": [],
    vmdesc: [],
  };
  for (const s of summary.sections) {
    // START/FULL: type, u32 id, u8 len, idstr, u32 instance, u32 version; PART/END: type, u32 id.
    const header = s.kind === "start" || s.kind === "full" ? 1 + 4 + 1 + s.idstr.length + 4 + 4 : 1 + 4;
    // Every section but the last ends in a 5-byte footer (0x7e, u32 id) in streams that have footers.
    const end = s.offset + s.size;
    map["section-header"].push([s.offset, s.offset + header]);
    if (s.idstr === "ram") ramRecords(bytes, s.offset + header, end, map);
    else if (end > s.offset + header) map["device-body"].push([s.offset + header, end]);
  }
  if (summary.eof !== null && summary.size > summary.eof + 1) map.vmdesc.push([summary.eof + 1, summary.size]);
  return map;
}

const FLAG_ZERO = 0x02;
const FLAG_MEM_SIZE = 0x04;
const FLAG_PAGE = 0x08;
const FLAG_EOS = 0x10;
const FLAG_CONTINUE = 0x20;
const PAGE = 4096;

/** RAM record headers and page data of one RAM section body (plain streams; stops at anything else). */
function ramRecords(b: Uint8Array, p: number, end: number, map: { "ram-header": [number, number][]; "ram-data": [number, number][] }): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (p + 8 <= end) {
    const lo = dv.getUint32(p + 4);
    const flags = lo & 0xfff;
    const start = p;
    p += 8;
    if (flags & FLAG_MEM_SIZE) {
      // The block list: u8 len, name, u64 length per block, up to the total.
      let total = dv.getUint32(p - 8) * 2 ** 32 + (lo & ~0xfff);
      while (total > 0 && p < end) {
        const n = b[p]!;
        const length = dv.getUint32(p + 1 + n) * 2 ** 32 + dv.getUint32(p + 1 + n + 4);
        p += 1 + n + 8;
        total -= length;
      }
      if (p > end) return;
      map["ram-header"].push([start, p]);
      continue;
    }
    if (!(flags & FLAG_CONTINUE) && (flags & (FLAG_ZERO | FLAG_PAGE))) p += 1 + b[p]!;
    if (p > end) return;
    map["ram-header"].push([start, p]);
    if (flags & FLAG_EOS) return;
    if (flags & FLAG_ZERO) p += 1;
    else if (flags & FLAG_PAGE) {
      if (p + PAGE > end) return;
      map["ram-data"].push([p, p + PAGE]);
      p += PAGE;
    } else return;
  }
}

/** The parts of a Xen libxc/libxl/xl stream, from the `listing` of `vmstream inspect --json`. */
export function xenRegions(summary: { listing: { name: string; offset: number; length: number; records: number }[] }): RegionMap {
  const map = { "record-header": [] as [number, number][], "record-body": [] as [number, number][] };
  for (const r of summary.listing) {
    if (r.name === "HEADER") {
      map["record-header"].push([r.offset, r.offset + r.length]);
      continue;
    }
    map["record-header"].push([r.offset, r.offset + 8]);
    // A grouped row (records > 1) covers several records: only its first header is known exactly.
    if (r.records === 1 && r.length > 0) map["record-body"].push([r.offset + 8, r.offset + 8 + r.length]);
  }
  // The stream's own header(s) before the first record.
  const first = Math.min(...summary.listing.map((r) => r.offset));
  if (first > 0) map["record-header"].push([0, first]);
  return map;
}
