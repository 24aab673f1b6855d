import type { FormatId } from "@vmstream/framing";
import { families, latest } from "@vmstream/wire-spec";

/** A format name that is not in the wire spec, or a family this build has no codec for. */
export class UnknownFormatError extends Error {
  override name = "UnknownFormatError";
}

/** Parse `family@version` or a bare family (its newest version). */
export function parseFormat(s: string): FormatId {
  const [family, version, extra] = s.split("@");
  const spec = families.find((f) => f.name === family);
  if (!spec || extra !== undefined) {
    throw new UnknownFormatError(`unknown format '${s}' (known: ${families.map((f) => f.name).join(", ")}; write family@version)`);
  }
  const v = version ?? latest(spec.name);
  if (!spec.versions.some((x) => x.version === v)) {
    throw new UnknownFormatError(`unknown version '${v}' of ${spec.name} (known: ${spec.versions.map((x) => x.version).join(", ")})`);
  }
  return { family: spec.name, version: v };
}

/** The family's title from the wire spec, e.g. "Xen domain context stream". */
export function familyTitle(name: string): string {
  return families.find((f) => f.name === name)?.title ?? name;
}
