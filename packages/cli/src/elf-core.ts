/**
 * ELF64 x86-64 core files (ET_CORE), as QEMU's dump-guest-memory writes
 * them: an ELF header, one PT_NOTE and one PT_LOAD per guest-physical range
 * (`p_paddr` the guest-physical address). Program headers usually follow the
 * ELF header; a writer that learns its ranges only at the end puts them
 * after the data instead (`e_phoff` says where). More than 0xfffe program
 * headers use the PN_XNUM escape: e_phnum 0xffff and the real count in
 * section header 0's sh_info, as QEMU and Linux do.
 */

import type { GpaRange } from "@vmstream/vmstate";

/** One PT_LOAD: `length` bytes at guest-physical `gpa`, at file `offset` (vmstate's range shape). */
export type Load = GpaRange;

const PT_LOAD = 1;
const PT_NOTE = 4;
const PN_XNUM = 0xffff;
export const EHDR_SIZE = 64;
export const PHDR_SIZE = 56;
const SHDR_SIZE = 64;

/** The ELF header for `phnum` program headers at `phoff` (and, past PN_XNUM, a section header at `shoff`). */
export function elfHeader(phnum: number, phoff: number, shoff = 0): Uint8Array {
  const b = new Uint8Array(EHDR_SIZE);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 4, true); // ET_CORE
  dv.setUint16(18, 62, true); // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, EHDR_SIZE, true);
  dv.setUint16(54, PHDR_SIZE, true);
  dv.setUint16(56, phnum >= PN_XNUM ? PN_XNUM : phnum, true);
  if (phnum >= PN_XNUM) {
    dv.setBigUint64(40, BigInt(shoff), true);
    dv.setUint16(58, SHDR_SIZE, true);
    dv.setUint16(60, 1, true);
  }
  return b;
}

/** Section header 0 holding the real program header count (only past PN_XNUM). */
export function xnumSection(phnum: number): Uint8Array {
  const b = new Uint8Array(SHDR_SIZE);
  new DataView(b.buffer).setUint32(44, phnum, true); // sh_info
  return b;
}

/** The program headers: an empty PT_NOTE at `noteAt`, then one PT_LOAD per load. */
export function programHeaders(loads: readonly Load[], noteAt: number): Uint8Array {
  const b = new Uint8Array(PHDR_SIZE * (loads.length + 1));
  const dv = new DataView(b.buffer);
  let p = 0;
  const ph = (type: number, offset: number, paddr: number, size: number): void => {
    dv.setUint32(p, type, true);
    dv.setBigUint64(p + 8, BigInt(offset), true);
    dv.setBigUint64(p + 24, BigInt(paddr), true);
    dv.setBigUint64(p + 32, BigInt(size), true);
    dv.setBigUint64(p + 40, BigInt(size), true);
    p += PHDR_SIZE;
  };
  ph(PT_NOTE, noteAt, 0, 0);
  for (const l of loads) ph(PT_LOAD, l.offset, l.gpa, l.length);
  return b;
}

/** ELF header and program headers together, the headers first (the QEMU layout). */
export function elfHeaders(loads: readonly Load[], noteAt: number): Uint8Array {
  const ph = programHeaders(loads, noteAt);
  const b = new Uint8Array(EHDR_SIZE + ph.byteLength);
  b.set(elfHeader(loads.length + 1, EHDR_SIZE), 0);
  b.set(ph, EHDR_SIZE);
  return b;
}
