import type { FormatId } from "@vmstream/framing";
import { CONTEXT_MAGIC, LIBXC_ID, LIBXL_IDENT, QEMU_VM_FILE_MAGIC, XL_MAGIC, families, latest } from "@vmstream/wire-spec";
import { UsageError } from "./errors.js";

/*
 * What the command line needs to name and recognise formats before any codec
 * is loaded. Imports only the wire spec, so it is cheap and browser-safe.
 */

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 4096;

const be32 = (h: Uint8Array, at: number): number =>
  h.length < at + 4 ? -1 : ((h[at]! << 24) | (h[at + 1]! << 16) | (h[at + 2]! << 8) | h[at + 3]!) >>> 0;
const le32 = (h: Uint8Array, at: number): number =>
  h.length < at + 4 ? -1 : (h[at]! | (h[at + 1]! << 8) | (h[at + 2]! << 16) | (h[at + 3]! << 24)) >>> 0;
const startsWith = (h: Uint8Array, text: string): boolean => {
  if (h.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (h[i] !== text.charCodeAt(i)) return false;
  return true;
};
const LIBXL_TEXT = String.fromCharCode(...Array.from({ length: 8 }, (_, i) => Number((LIBXL_IDENT >> BigInt(56 - 8 * i)) & 0xffn)));

/**
 * The families in detection order, each with a sniff: a cheap test that is
 * true for every head its codec's own `detect` accepts (and maybe more), so
 * that only the codecs whose sniff passes need loading. Formats with a magic
 * come first; `legacy` is last because a legacy image has no magic and is
 * recognised by elimination (an xl header without the STREAMv2 flag is legacy too).
 */
export const DETECTION: ReadonlyArray<{ family: string; sniff(head: Uint8Array): boolean }> = [
  { family: "context", sniff: (h) => be32(h, 0) === CONTEXT_MAGIC || le32(h, 8) === CONTEXT_MAGIC },
  { family: "qemu", sniff: (h) => be32(h, 0) === QEMU_VM_FILE_MAGIC },
  { family: "libxc", sniff: (h) => be32(h, 8) === LIBXC_ID },
  { family: "libxl", sniff: (h) => startsWith(h, LIBXL_TEXT) },
  { family: "xl", sniff: (h) => startsWith(h, XL_MAGIC) },
  { family: "legacy", sniff: () => true },
];

/** Parse `family@version` or a bare family (its newest version). */
export function parseFormat(s: string): FormatId {
  const [family, version, extra] = s.split("@");
  const spec = families.find((f) => f.name === family);
  if (!spec || extra !== undefined) {
    throw new UsageError(`unknown format '${s}' (known: ${families.map((f) => f.name).join(", ")}; write family@version)`);
  }
  const v = version ?? latest(spec.name);
  if (!spec.versions.some((x) => x.version === v)) {
    throw new UsageError(`unknown version '${v}' of ${spec.name} (known: ${spec.versions.map((x) => x.version).join(", ")})`);
  }
  return { family: spec.name, version: v };
}

/** The family's title from the wire spec, e.g. "Xen domain context stream". */
export function familyTitle(name: string): string {
  return families.find((f) => f.name === name)?.title ?? name;
}
