import type { FamilySpec, VersionSpec } from "../types.js";

/** Negative chunk ids of the legacy libxc stream ("XC_SAVE_ID_*"). Filled in by the legacy codec's issue. */
export const LEGACY_CHUNKS: Record<number, string> = {};

const version = (w: "32" | "64"): VersionSpec => ({
  version: w,
  status: "historical",
  headers: [],
  records: [],
  changes:
    w === "32"
      ? "Images saved by a 32-bit toolstack (unsigned long = 4 bytes)."
      : "Images saved by a 64-bit toolstack (unsigned long = 8 bytes); differs from 32 only in the width of native fields.",
});

export const legacy: FamilySpec = {
  name: "legacy",
  title: "Legacy Xen save image (Xen ≤ 4.5)",
  doc: "docs/spec/legacy.md",
  detection: "No magic: anything else that is not v2. The toolstack width is read from octets 4–7 (p2m size / extended-info marker).",
  evolution: "Frozen: never extended; only converted to migration v2.",
  versioning: "variants",
  versions: [version("32"), version("64")],
  conversions: [
    { from: { family: "legacy", version: "32" }, to: { family: "libxc", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 32 -f libxc" },
    { from: { family: "legacy", version: "64" }, to: { family: "libxc", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 64 -f libxc" },
    { from: { family: "legacy", version: "32" }, to: { family: "libxl", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 32 -f libxl" },
    { from: { family: "legacy", version: "64" }, to: { family: "libxl", version: "2" }, kind: "cross", note: "convert-legacy-stream -w 64 -f libxl" },
  ],
};
