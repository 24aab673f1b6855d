import { ByteReader, LimitError, MalformedError } from "@vmstream/framing";
import { QCOW2_MAX_SNAPSHOTS, QCOW2_MAX_SNAPSHOT_EXTRA_DATA } from "@vmstream/wire-spec";
import { type RandomAccess, readExact } from "../random-access.js";
import type { Qcow2Header } from "./header.js";

export interface Qcow2Snapshot {
  /** Position in the table (0-based) and the entry's file offset. */
  index: number;
  entryOffset: number;
  id: string;
  name: string;
  /** Wall-clock time of the snapshot. */
  date: { sec: number; nsec: number };
  /** Guest clock at the snapshot, nanoseconds. */
  vmClockNsec: bigint;
  /** Bytes of VM state (the 64-bit size from extra_data when present); 0: a disk-only snapshot. */
  vmStateSize: number;
  /** Virtual disk size when the snapshot was taken (extra_data), else the image's. */
  diskSize: number;
  /** Instruction count (record/replay), -1 when none. */
  icount: bigint;
  extraDataSize: number;
  l1TableOffset: number;
  l1Size: number;
  /** Guest offset of the VM state in the snapshot's L1 table. */
  vmStateOffset: number;
}

const ENTRY_FIXED = 40;
/** QEMU refuses snapshot tables above 64 MiB (QCOW_MAX_SNAPSHOTS_SIZE). */
const MAX_TABLE = 64 << 20;

/**
 * The snapshot table, entry by entry. Counts and sizes are checked against
 * the file before anything is read for them, and each entry's L1 table must
 * lie inside the file, as QEMU checks when it opens the image.
 */
export async function readSnapshotTable(ra: RandomAccess, h: Qcow2Header): Promise<Qcow2Snapshot[]> {
  const n = h.nbSnapshots;
  if (n === 0) return [];
  if (n > QCOW2_MAX_SNAPSHOTS) throw new LimitError(`nb_snapshots ${n} is above QEMU's limit of ${QCOW2_MAX_SNAPSHOTS}`, 60);
  const at = h.snapshotsOffset;
  if (at % h.clusterSize !== 0) throw new MalformedError(`snapshot table offset ${at} is not aligned to the cluster size ${h.clusterSize}`, 64);
  if (at >= ra.size || n * ENTRY_FIXED > ra.size - at) {
    throw new MalformedError(
      `snapshot table at ${at} (${n} entries, at least ${n * ENTRY_FIXED} bytes) runs past the end of the file (${ra.size} bytes)`,
      64,
    );
  }
  const out: Qcow2Snapshot[] = [];
  const dec = new TextDecoder("utf-8");
  let pos = at;
  for (let i = 0; i < n; i++) {
    if (pos - at > MAX_TABLE) throw new LimitError(`snapshot table is above QEMU's limit of ${MAX_TABLE} bytes`, pos);
    const entryOffset = pos;
    const r = new ByteReader(await readExact(ra, pos, ENTRY_FIXED, `snapshot table entry ${i}`), pos);
    const l1TableOffset = r.u64beSafe("snapshot l1_table_offset");
    const l1Size = r.u32be();
    const idSize = r.u16be();
    const nameSize = r.u16be();
    const sec = r.u32be();
    const nsec = r.u32be();
    const vmClockNsec = r.u64be();
    const vmStateSize32 = r.u32be();
    const extraDataSize = r.u32be();
    if (extraDataSize > QCOW2_MAX_SNAPSHOT_EXTRA_DATA) {
      throw new LimitError(`snapshot ${i}: extra_data_size ${extraDataSize} is above QEMU's limit of ${QCOW2_MAX_SNAPSHOT_EXTRA_DATA}`, pos + 36);
    }
    const varLen = extraDataSize + idSize + nameSize;
    const v = new ByteReader(await readExact(ra, pos + ENTRY_FIXED, varLen, `snapshot table entry ${i}`), pos + ENTRY_FIXED);
    const extra = v.sub(extraDataSize, "extra_data");
    const vmStateSize = extraDataSize >= 8 ? extra.u64beSafe("vm_state_size_large") : vmStateSize32;
    const diskSize = extraDataSize >= 16 ? extra.u64beSafe("disk_size") : h.size;
    const icount = extraDataSize >= 24 ? extra.i64be() : -1n;
    const id = dec.decode(v.bytesView(idSize, "id_str"));
    const name = dec.decode(v.bytesView(nameSize, "name"));
    pos += Math.ceil((ENTRY_FIXED + varLen) / 8) * 8;

    if (l1TableOffset % h.clusterSize !== 0) {
      throw new MalformedError(`snapshot ${id}: L1 table offset ${l1TableOffset} is not aligned to the cluster size ${h.clusterSize}`, entryOffset);
    }
    if (l1TableOffset + l1Size * 8 > ra.size) {
      throw new MalformedError(
        `snapshot ${id}: L1 table at ${l1TableOffset} (${l1Size} entries) runs past the end of the file (${ra.size} bytes)`,
        entryOffset,
      );
    }
    const span = l1Span(h);
    const vmIndex = Math.ceil(diskSize / span);
    const vmStateOffset = vmIndex * span;
    if (vmStateSize > 0 && vmStateOffset + vmStateSize > l1Size * span) {
      throw new MalformedError(
        `snapshot ${id}: VM state of ${vmStateSize} bytes at guest offset ${vmStateOffset} reaches past what its L1 table of ${l1Size} entries maps (${l1Size * span} bytes)`,
        entryOffset + 32,
      );
    }
    out.push({
      index: i,
      entryOffset,
      id,
      name,
      date: { sec, nsec },
      vmClockNsec,
      vmStateSize,
      diskSize,
      icount,
      extraDataSize,
      l1TableOffset,
      l1Size,
      vmStateOffset,
    });
  }
  return out;
}

/** Bytes of guest space one L1 entry maps: a cluster of L2 entries, each mapping a cluster. */
export function l1Span(h: Qcow2Header): number {
  return 2 ** (h.clusterBits + l2Bits(h));
}
export function l2Bits(h: Qcow2Header): number {
  return h.clusterBits - (h.extendedL2 ? 4 : 3);
}
