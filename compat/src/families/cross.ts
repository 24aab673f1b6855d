/** Cross-family conversions declared in the spec (legacy → libxc, legacy → libxl). */
import { MATRIX_PROPERTIES } from "@vmstream/testing";
import type { VersionPair } from "@vmstream/wire-spec";
import type { CellSpec } from "../cell.js";
import { NotImplemented } from "../codec-io.js";

export function crossCells(p: VersionPair): CellSpec[] {
  return MATRIX_PROPERTIES.map((property) => ({
    family: p.family,
    from: p.from,
    to: p.to,
    property,
    build: () => {
      throw new NotImplemented("not implemented: legacyCodec");
    },
  }));
}
