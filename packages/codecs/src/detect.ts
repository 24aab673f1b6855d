import type { FamilyCodec } from "@vmstream/framing";
import { CODECS } from "./families.js";
import { UnknownFormatError } from "./format.js";

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 4096;

export interface Detected {
  codec: FamilyCodec;
  version: string;
}

/** Load one family's codec (only its package is imported). */
export async function loadCodec(family: string): Promise<FamilyCodec> {
  const entry = CODECS.find((e) => e.family === family);
  if (!entry) throw new UnknownFormatError(`no codec for family ${family} in this build`);
  return entry.load();
}

/**
 * The format of a stream from its first bytes (up to `DETECT_BYTES`): the
 * first family, in detection order, whose codec's `detect` accepts the head.
 * Only the codecs whose sniff passes are loaded, so a command line pays for
 * one codec package, not all of them.
 */
export async function detectFormat(head: Uint8Array): Promise<Detected | null> {
  for (const entry of CODECS) {
    if (!entry.sniff(head)) continue;
    const codec = await entry.load();
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
}
