/**
 * Wire constants of the savevm stream that are not section types (those live in
 * @vmstream/wire-spec): RAM record flags, in-band commands, limits.
 */
import { QEMU_COMMANDS, QEMU_RAM_FLAG } from "@vmstream/wire-spec";
export { QEMU_SECTION, QEMU_VM_FILE_MAGIC, QEMU_VM_SUBSECTIONS_END } from "@vmstream/wire-spec";

export const RAM_FLAG = QEMU_RAM_FLAG;

/** Flags that carry a block name unless CONTINUE is set, and address a page. */
export const RAM_PAGE_FLAGS = RAM_FLAG.ZERO | RAM_FLAG.PAGE | RAM_FLAG.COMPRESS_PAGE | RAM_FLAG.XBZRLE;

/** What `flags & ~CONTINUE` may be: exactly one of these, as QEMU's loader switches on it. */
export const RAM_RECORD_KINDS: ReadonlySet<number> = new Set([
  RAM_FLAG.MEM_SIZE,
  RAM_FLAG.ZERO,
  RAM_FLAG.PAGE,
  RAM_FLAG.COMPRESS_PAGE,
  RAM_FLAG.XBZRLE,
  RAM_FLAG.MULTIFD_FLUSH,
  RAM_FLAG.EOS,
  RAM_FLAG.HOOK,
]);

export const ENCODING_FLAG_XBZRLE = 0x01;

/** zlib's compressBound(): the largest compressed page QEMU's loader accepts. */
export const compressBound = (n: number): number => n + (n >>> 12) + (n >>> 14) + (n >>> 25) + 13;

export const MIG_CMD = QEMU_COMMANDS;
export const MIG_CMD_PACKAGED = 7;
export const MIG_CMD_POSTCOPY_ADVISE = 3;

/** Page size when nothing in the stream says otherwise (every x86 target). */
export const DEFAULT_PAGE_SIZE = 4096;

/** Device sections and the vmdesc are buffered whole; refuse tails larger than this. */
export const MAX_TAIL = 128 * 1024 * 1024;
