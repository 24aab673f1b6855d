import type { FamilyCodec, FormatId } from "@vmstream/framing";
import * as legacy from "@vmstream/legacy";
import * as libxl from "@vmstream/libxl";
import * as vmstate from "@vmstream/vmstate";
import { families, latest } from "@vmstream/wire-spec";
import { UsageError } from "./errors.js";

/*
 * Browser-safe on purpose (no `node:` imports): the web inspector imports this
 * module (`@vmstream/cli/registry`) so both tools detect formats the same way.
 */

/** How many leading bytes detection looks at. */
export const DETECT_BYTES = 4096;

const pick = (mod: object, name: string): FamilyCodec[] => {
  const c = (mod as Record<string, unknown>)[name];
  return c && typeof c === "object" && "detect" in c ? [c as FamilyCodec] : [];
};

/**
 * Detection order matters: formats with a magic first, `legacy` last because a
 * legacy image has no magic and is recognised by elimination.
 */
export const codecs: readonly FamilyCodec[] = [
  ...pick(libxl, "contextCodec"),
  ...pick(vmstate, "qemuCodec"),
  ...pick(libxl, "libxcCodec"),
  ...pick(libxl, "libxlCodec"),
  ...pick(libxl, "xlCodec"),
  ...pick(legacy, "legacyCodec"),
];

export function codecFor(family: string): FamilyCodec {
  const c = codecs.find((x) => x.family === family);
  if (!c) throw new UsageError(`no codec for family ${family} in this build`);
  return c;
}

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

export function detect(head: Uint8Array): { codec: FamilyCodec; version: string } | null {
  for (const codec of codecs) {
    const version = codec.detect(head);
    if (version !== null) return { codec, version };
  }
  return null;
}
