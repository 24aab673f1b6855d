/**
 * `@vmstream/codecs/all`: every codec imported at once, with synchronous
 * detection — for a bundle that holds every codec anyway (the web inspector)
 * and for library users who want the list. Same answer as `detectFormat`.
 */
import type { FamilyCodec } from "@vmstream/framing";
import { legacyCodec } from "@vmstream/legacy";
import { libxcCodec, libxlCodec, xlCodec } from "@vmstream/libxl";
import { contextCodec } from "@vmstream/libxl/context";
import { qemuCodec } from "@vmstream/vmstate";
import type { Detected } from "./detect.js";
import { CODECS } from "./families.js";
import { UnknownFormatError } from "./format.js";

export { DETECT_BYTES, type Detected } from "./detect.js";
export { UnknownFormatError, familyTitle, parseFormat } from "./format.js";

const byFamily = new Map<string, FamilyCodec>(
  [contextCodec, qemuCodec, libxcCodec, libxlCodec, xlCodec, legacyCodec].map((c) => [c.family, c]),
);

/** Every codec, in detection order. */
export const codecs: readonly FamilyCodec[] = CODECS.map((e) => byFamily.get(e.family)!);

export function codecFor(family: string): FamilyCodec {
  const c = byFamily.get(family);
  if (!c) throw new UnknownFormatError(`no codec for family ${family} in this build`);
  return c;
}

/** `detectFormat` without the loading: the same sniffs, the same codecs' `detect`, in the same order. */
export function detect(head: Uint8Array): Detected | null {
  for (const entry of CODECS) {
    if (!entry.sniff(head)) continue;
    const codec = codecFor(entry.family);
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
}
