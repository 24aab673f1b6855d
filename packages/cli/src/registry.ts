import type { FamilyCodec } from "@vmstream/framing";
import * as legacy from "@vmstream/legacy";
import * as libxl from "@vmstream/libxl";
import * as vmstate from "@vmstream/vmstate";
import { UsageError } from "./errors.js";
import { DETECTION } from "./formats.js";

export { DETECT_BYTES, familyTitle, parseFormat } from "./formats.js";

/*
 * Every codec, loaded at once: for the web inspector (`@vmstream/cli/registry`,
 * hence browser-safe, no `node:` imports) and for library users who want the
 * list. The command line itself loads codecs one by one (`load.ts`).
 */

const all: readonly FamilyCodec[] = [
  libxl.contextCodec,
  vmstate.qemuCodec,
  libxl.libxcCodec,
  libxl.libxlCodec,
  libxl.xlCodec,
  legacy.legacyCodec,
];

/** In detection order (formats.ts's `DETECTION`). */
export const codecs: readonly FamilyCodec[] = DETECTION.flatMap(({ family }) => all.filter((c) => c.family === family));

export function codecFor(family: string): FamilyCodec {
  const c = codecs.find((x) => x.family === family);
  if (!c) throw new UsageError(`no codec for family ${family} in this build`);
  return c;
}

export function detect(head: Uint8Array): { codec: FamilyCodec; version: string } | null {
  for (const codec of codecs) {
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
}
