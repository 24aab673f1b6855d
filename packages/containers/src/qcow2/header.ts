import { ByteReader, MalformedError, RefusedError, WireError, hex } from "@vmstream/framing";
import {
  QCOW2_INCOMPAT,
  QCOW2_MAGIC,
  QCOW2_MAX_CLUSTER_BITS,
  QCOW2_MIN_CLUSTER_BITS,
  QCOW2_V2_HEADER_SIZE,
  QCOW2_V3_MIN_HEADER_SIZE,
} from "@vmstream/wire-spec";
import { type RandomAccess, readExact } from "../random-access.js";

export interface Qcow2Header {
  version: 2 | 3;
  clusterBits: number;
  clusterSize: number;
  /** Virtual disk size in bytes. */
  size: number;
  l1Size: number;
  l1TableOffset: number;
  nbSnapshots: number;
  snapshotsOffset: number;
  incompatibleFeatures: bigint;
  compatibleFeatures: bigint;
  autoclearFeatures: bigint;
  refcountOrder: number;
  headerLength: number;
  /** 0 zlib, 1 zstd: only compressed clusters use it, and the VM state has none. */
  compressionType: number;
  /** 128-bit L2 entries with 32 subclusters per cluster. */
  extendedL2: boolean;
  hasBackingFile: boolean;
  /** Header extensions present (type and where), for the summary. */
  extensions: { type: number; offset: number; length: number }[];
  /** The image was not closed cleanly (refcounts may be stale; mappings are still read). */
  dirty: boolean;
  /** QEMU marked the image corrupt: it opens it read-only, and so do we. */
  corrupt: boolean;
}

const KNOWN_INCOMPAT = Object.values(QCOW2_INCOMPAT).reduce((m, b) => m | (1n << BigInt(b)), 0n);
const bit = (v: bigint, b: number) => (v >> BigInt(b)) & 1n;

/** True when the head starts like a qcow2 image. */
export function isQcow2(head: Uint8Array): boolean {
  return head.length >= 4 && ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0 === QCOW2_MAGIC;
}

/**
 * Read and check the header in the order its fields come. Everything that
 * would make the VM state unreadable or ambiguous is refused here, before a
 * table is read: encryption, an external data file, features we do not know.
 */
export async function readQcow2Header(ra: RandomAccess): Promise<Qcow2Header> {
  const r = new ByteReader(await readExact(ra, 0, Math.min(ra.size, QCOW2_V3_MIN_HEADER_SIZE), "qcow2 header"), 0);
  r.need(QCOW2_V2_HEADER_SIZE, "qcow2 header");
  const magic = r.u32be();
  if (magic !== QCOW2_MAGIC) throw new WireError("BAD_MAGIC", "not a qcow2 image", 0, { expected: hex(QCOW2_MAGIC), found: hex(magic) });
  const version = r.u32be();
  if (version !== 2 && version !== 3) throw new WireError("UNSUPPORTED_VERSION", `qcow2 version ${version} is not supported (2 and 3 are)`, 4);
  const backingFileOffset = r.u64be();
  r.u32be(); // backing_file_size: the backing file does not hold VM state
  const clusterBits = r.u32be();
  if (clusterBits < QCOW2_MIN_CLUSTER_BITS || clusterBits > QCOW2_MAX_CLUSTER_BITS) {
    throw new MalformedError(`cluster_bits ${clusterBits} is outside ${QCOW2_MIN_CLUSTER_BITS}..${QCOW2_MAX_CLUSTER_BITS} (512 B to 2 MiB)`, 20);
  }
  const clusterSize = 2 ** clusterBits;
  const size = r.u64beSafe("virtual disk size");
  const cryptMethod = r.u32be();
  if (cryptMethod !== 0) {
    throw new RefusedError(`encrypted image (${cryptMethod === 1 ? "AES" : cryptMethod === 2 ? "LUKS" : `crypt_method ${cryptMethod}`}): its VM state cannot be read without the key`, 32);
  }
  const l1Size = r.u32be();
  const l1TableOffset = r.u64beSafe("l1_table_offset");
  r.u64be(); // refcount_table_offset
  r.u32be(); // refcount_table_clusters
  const nbSnapshots = r.u32be();
  const snapshotsOffset = r.u64beSafe("snapshots_offset");
  let incompatibleFeatures = 0n;
  let compatibleFeatures = 0n;
  let autoclearFeatures = 0n;
  let refcountOrder = 4;
  let headerLength = QCOW2_V2_HEADER_SIZE;
  let compressionType = 0;
  if (version === 3) {
    r.need(QCOW2_V3_MIN_HEADER_SIZE - QCOW2_V2_HEADER_SIZE, "qcow2 version 3 header");
    incompatibleFeatures = r.u64be();
    compatibleFeatures = r.u64be();
    autoclearFeatures = r.u64be();
    refcountOrder = r.u32be();
    headerLength = r.u32be();
    if (headerLength < QCOW2_V3_MIN_HEADER_SIZE || headerLength > clusterSize) {
      throw new MalformedError(`header_length ${headerLength} is outside ${QCOW2_V3_MIN_HEADER_SIZE}..${clusterSize} (the first cluster)`, 100);
    }
    const unknown = incompatibleFeatures & ~KNOWN_INCOMPAT;
    if (unknown !== 0n) throw new RefusedError(`unknown incompatible feature bits ${hex(unknown)}: the image cannot be read safely`, 72);
    if (bit(incompatibleFeatures, QCOW2_INCOMPAT.externalDataFile)) {
      throw new RefusedError("the image keeps its data in an external data file: its VM state is not in this file", 72);
    }
    if (headerLength > QCOW2_V3_MIN_HEADER_SIZE) {
      compressionType = (await readExact(ra, QCOW2_V3_MIN_HEADER_SIZE, 1, "compression_type"))[0]!;
    }
  }
  const extensions = await readExtensions(ra, headerLength, clusterSize, backingFileOffset);
  return {
    version,
    clusterBits,
    clusterSize,
    size,
    l1Size,
    l1TableOffset,
    nbSnapshots,
    snapshotsOffset,
    incompatibleFeatures,
    compatibleFeatures,
    autoclearFeatures,
    refcountOrder,
    headerLength,
    compressionType,
    extendedL2: bit(incompatibleFeatures, QCOW2_INCOMPAT.extendedL2) === 1n,
    hasBackingFile: backingFileOffset !== 0n,
    extensions,
    dirty: bit(incompatibleFeatures, QCOW2_INCOMPAT.dirty) === 1n,
    corrupt: bit(incompatibleFeatures, QCOW2_INCOMPAT.corrupt) === 1n,
  };
}

/**
 * Header extensions: type u32, length u32, data padded to 8, until type 0,
 * all inside the first cluster (and before the backing file name, when there
 * is one). Only listed; none of them changes where the VM state is.
 */
async function readExtensions(ra: RandomAccess, from: number, clusterSize: number, backingFileOffset: bigint) {
  const out: { type: number; offset: number; length: number }[] = [];
  let end = Math.min(clusterSize, ra.size);
  if (backingFileOffset !== 0n && backingFileOffset < BigInt(end)) end = Number(backingFileOffset);
  if (from + 8 > end) return out;
  const r = new ByteReader(await readExact(ra, from, end - from, "header extensions"), from);
  while (r.end - r.pos >= 8) {
    const at = r.base + r.pos;
    const type = r.u32be();
    const length = r.u32be();
    if (type === 0) break;
    const padded = Math.ceil(length / 8) * 8;
    if (padded > r.end - r.pos) throw new MalformedError(`header extension ${hex(type)} of ${length} bytes runs past the first cluster`, at + 4);
    out.push({ type, offset: at, length });
    r.skip(padded);
  }
  return out;
}
