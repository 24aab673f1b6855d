import type { LayoutSpec } from "./types.js";

/*
 * Containers: files that hold a VM's state beside other things (a disk, a
 * domain definition). They are not stream families — no version of theirs
 * changes the stream inside — so they are not in `families`; their layouts
 * live here so the readers, the docs tables and the tests share one truth.
 */

/** "QFI\xfb": the first four bytes of every qcow2 image (big-endian u32). */
export const QCOW2_MAGIC = 0x514649fb;
/** Size of the version 2 header; version 3 headers are `header_length` bytes (at least 104). */
export const QCOW2_V2_HEADER_SIZE = 72;
export const QCOW2_V3_MIN_HEADER_SIZE = 104;
/** QEMU accepts cluster sizes from 512 bytes to 2 MiB. */
export const QCOW2_MIN_CLUSTER_BITS = 9;
export const QCOW2_MAX_CLUSTER_BITS = 21;
/** QEMU's own limits on the snapshot table (QCOW_MAX_SNAPSHOTS, …_EXTRA_DATA). */
export const QCOW2_MAX_SNAPSHOTS = 65536;
export const QCOW2_MAX_SNAPSHOT_EXTRA_DATA = 1024;
/** Incompatible feature bits (header offset 72). */
export const QCOW2_INCOMPAT = { dirty: 0, corrupt: 1, externalDataFile: 2, compressionType: 3, extendedL2: 4 } as const;
/** Bits 9–55 of an L1 or L2 entry: a host offset (cluster-aligned). */
export const QCOW2_OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
export const QCOW2_L2_COMPRESSED = 1n << 62n;
export const QCOW2_L2_ZERO = 1n;

export const qcow2Header: LayoutSpec = {
  name: "qcow2 header",
  size: null,
  note: "Big-endian. Version 2 ends at byte 72; version 3 continues to header_length, then header extensions (type u32, length u32, data padded to 8) up to type 0.",
  fields: [
    { name: "magic", type: "u32", offset: 0, order: "be", value: QCOW2_MAGIC, note: '"QFI\\xfb"' },
    { name: "version", type: "u32", offset: 4, order: "be", values: { 2: "qcow2 version 2", 3: "qcow2 version 3" } },
    { name: "backing_file_offset", type: "u64", offset: 8, order: "be" },
    { name: "backing_file_size", type: "u32", offset: 16, order: "be" },
    { name: "cluster_bits", type: "u32", offset: 20, order: "be", note: "9 (512 B) to 21 (2 MiB)" },
    { name: "size", type: "u64", offset: 24, order: "be", note: "virtual disk size in bytes" },
    { name: "crypt_method", type: "u32", offset: 32, order: "be", values: { 0: "none", 1: "AES (refused)", 2: "LUKS (refused)" } },
    { name: "l1_size", type: "u32", offset: 36, order: "be", note: "entries in the active L1 table" },
    { name: "l1_table_offset", type: "u64", offset: 40, order: "be" },
    { name: "refcount_table_offset", type: "u64", offset: 48, order: "be" },
    { name: "refcount_table_clusters", type: "u32", offset: 56, order: "be" },
    { name: "nb_snapshots", type: "u32", offset: 60, order: "be", note: "at most 65536" },
    { name: "snapshots_offset", type: "u64", offset: 64, order: "be", note: "the snapshot table; need not be followed by a full cluster" },
    {
      name: "incompatible_features",
      type: "u64",
      offset: 72,
      order: "be",
      bits: { 0: "dirty", 1: "corrupt", 2: "external data file (refused)", 3: "compression type", 4: "extended L2 entries" },
      note: "version 3 only; an unknown bit is refused",
    },
    { name: "compatible_features", type: "u64", offset: 80, order: "be", note: "version 3; bit 0 lazy refcounts" },
    { name: "autoclear_features", type: "u64", offset: 88, order: "be", note: "version 3" },
    { name: "refcount_order", type: "u32", offset: 96, order: "be", note: "version 3" },
    { name: "header_length", type: "u32", offset: 100, order: "be", note: "version 3; at least 104" },
    { name: "compression_type", type: "u8", offset: 104, values: { 0: "zlib", 1: "zstd" }, note: "when header_length > 104" },
  ],
};

export const qcow2SnapshotEntry: LayoutSpec = {
  name: "qcow2 snapshot table entry",
  size: null,
  note: "Big-endian, entries back to back from snapshots_offset, each padded to a multiple of 8. The snapshot's VM state is at guest offset l1_vm_state_index << (cluster_bits + l2_bits) of its own L1 table, l1_vm_state_index = ceil(disk size / (1 << (cluster_bits + l2_bits))), l2_bits = cluster_bits − 3 (− 4 with extended L2 entries).",
  fields: [
    { name: "l1_table_offset", type: "u64", offset: 0, order: "be", note: "the snapshot's own L1 table (cluster-aligned)" },
    { name: "l1_size", type: "u32", offset: 8, order: "be" },
    { name: "id_str_size", type: "u16", offset: 12, order: "be" },
    { name: "name_size", type: "u16", offset: 14, order: "be" },
    { name: "date_sec", type: "u32", offset: 16, order: "be" },
    { name: "date_nsec", type: "u32", offset: 20, order: "be" },
    { name: "vm_clock_nsec", type: "u64", offset: 24, order: "be" },
    { name: "vm_state_size", type: "u32", offset: 32, order: "be", note: "superseded by the 64-bit size in extra_data when present" },
    { name: "extra_data_size", type: "u32", offset: 36, order: "be", note: "at most 1024; version 3 needs 16" },
    { name: "extra_data", type: "bytes", offset: 40, note: "u64 vm_state_size_large, u64 disk_size, i64 icount (-1: none), as far as extra_data_size reaches; then id_str, name (no NUL), zero padding to 8" },
  ],
};

/** libvirt's save image magics: a finished save, and one being written (or cut short). */
export const LIBVIRT_SAVE_MAGIC = "LibvirtQemudSave";
export const LIBVIRT_SAVE_PARTIAL = "LibvirtQemudPart";
export const LIBVIRT_SAVE_VERSION = 2;
export const LIBVIRT_SAVE_HEADER_SIZE = 92;
/** The `compressed` field: how the QEMU stream after the XML is stored. */
export const LIBVIRT_SAVE_COMPRESSIONS: Readonly<Record<number, string>> = { 0: "raw", 1: "gzip", 2: "bzip2", 3: "xz", 4: "lzop" };
/** libvirt leaves this much NUL room after the XML so `save-image-define` can grow it in place. */
export const LIBVIRT_SAVE_XML_ROOM = 64 * 1024;

export const libvirtSaveHeader: LayoutSpec = {
  name: "libvirt save image header",
  size: LIBVIRT_SAVE_HEADER_SIZE,
  note: "Little-endian (host order of the x86 hosts that write it). The domain XML starts at byte 92, the cookie XML at 92 + cookieOffset, both NUL-terminated and NUL-padded to 92 + data_len, where the QEMU stream begins: raw, or one compressed stream of it.",
  fields: [
    { name: "magic", type: "bytes", offset: 0, size: 16, value: LIBVIRT_SAVE_MAGIC, note: `"${LIBVIRT_SAVE_PARTIAL}" while a save is incomplete` },
    { name: "version", type: "u32", offset: 16, order: "le", value: LIBVIRT_SAVE_VERSION, note: "others are refused" },
    { name: "data_len", type: "u32", offset: 20, order: "le", note: "bytes of XML and padding after the header" },
    { name: "was_running", type: "u32", offset: 24, order: "le", values: { 0: "restore paused", 1: "restore running" } },
    { name: "compressed", type: "u32", offset: 28, order: "le", values: LIBVIRT_SAVE_COMPRESSIONS },
    { name: "cookieOffset", type: "u32", offset: 32, order: "le", note: "offset of the cookie XML from byte 92; 0: none" },
    { name: "unused", type: "bytes", offset: 36, size: 56, reserved: true, note: "14 × u32" },
  ],
};

export const containerLayouts: Readonly<Record<string, LayoutSpec>> = {
  "qcow2-header": qcow2Header,
  "qcow2-snapshot": qcow2SnapshotEntry,
  "libvirt-save-header": libvirtSaveHeader,
};
