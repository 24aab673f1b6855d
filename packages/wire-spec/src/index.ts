import { context } from "./families/context.js";
import { legacy } from "./families/legacy.js";
import { libxc } from "./families/libxc.js";
import { libxl } from "./families/libxl.js";
import { qemu } from "./families/qemu.js";
import { xl } from "./families/xl.js";
import type { FamilySpec, VersionSpec } from "./types.js";

export * from "./types.js";
export * from "./families/context.js";
export * from "./families/libxc.js";
export * from "./families/libxl.js";
export * from "./families/xl.js";
export * from "./families/legacy.js";
export * from "./families/qemu.js";
export * from "./containers.js";

/** Every family, in the order the CLI documents them. */
export const families: readonly FamilySpec[] = [qemu, libxc, libxl, xl, legacy, context];

export function family(name: string): FamilySpec {
  const f = families.find((x) => x.name === name);
  if (!f) throw new Error(`unknown family ${name}`);
  return f;
}

export function versionOf(familyName: string, version: string): VersionSpec {
  const v = family(familyName).versions.find((x) => x.version === version);
  if (!v) throw new Error(`unknown version ${familyName}@${version}`);
  return v;
}

/** The newest version (what a bare family name means). */
export function latest(familyName: string): string {
  const vs = family(familyName).versions;
  return vs[vs.length - 1]!.version;
}

export interface VersionPair {
  family: string;
  from: string;
  to: string;
  /** Same family, adjacent versions; or a cross-family conversion declared in the spec. */
  kind: "adjacent" | "cross";
  toFamily: string;
}

/**
 * Every pair the compat matrix must prove, derived from the data: each adjacent
 * version pair of each family, plus declared cross-family conversions.
 */
export function versionPairs(): VersionPair[] {
  const out: VersionPair[] = [];
  for (const f of families) {
    if (f.versioning === "sequential") {
      for (let i = 0; i + 1 < f.versions.length; i++) {
        out.push({ family: f.name, from: f.versions[i]!.version, to: f.versions[i + 1]!.version, kind: "adjacent", toFamily: f.name });
      }
    }
    for (const c of f.conversions ?? []) {
      out.push({ family: f.name, from: c.from.version, to: `${c.to.family}@${c.to.version}`, kind: "cross", toFamily: c.to.family });
    }
  }
  return out;
}
export { renderSpecBlocks, renderBlock, renderLayout, renderRecords, renderVersions } from "./tables.js";
