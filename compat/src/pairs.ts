/**
 * Discovery: every cell of the matrix comes from data, never from a hand-kept
 * list. Stream families and cross-family conversions come from
 * `versionPairs()` of @vmstream/wire-spec; VMState device pairs from the
 * versions each sample device declares. Add a version to either and its pair
 * appears here (failing until a driver and a converter handle it).
 */
import { versionPairs } from "@vmstream/wire-spec";
import { MATRIX_PROPERTIES } from "@vmstream/testing";
import type { CellSpec } from "./cell.js";
import { NotImplemented } from "./codec-io.js";
import { contextAdapter } from "./families/context.js";
import { crossCells } from "./families/cross.js";
import { libxcAdapter } from "./families/libxc.js";
import { qemuAdapter } from "./families/qemu.js";
import { vmstateCells } from "./families/vmstate.js";
import { type StreamAdapter, streamPairCells } from "./stream-pair.js";

/** Adapters for adjacent pairs, by family. A family without one still gets its cells, failing. */
const adapters: Record<string, StreamAdapter<never>> = {
  context: contextAdapter as StreamAdapter<never>,
  qemu: qemuAdapter as StreamAdapter<never>,
  libxc: libxcAdapter as StreamAdapter<never>,
};

function missingCells(family: string, from: string, to: string, why: string): CellSpec[] {
  return MATRIX_PROPERTIES.map((property) => ({
    family,
    from,
    to,
    property,
    build: () => {
      throw new NotImplemented(why);
    },
  }));
}

export function matrixCells(): CellSpec[] {
  const out: CellSpec[] = [];
  for (const p of versionPairs()) {
    if (p.kind === "adjacent") {
      const a = adapters[p.family];
      out.push(...(a ? streamPairCells(a, p.from, p.to) : missingCells(p.family, p.from, p.to, `not implemented: no compat adapter for the ${p.family} family`)));
    } else {
      out.push(...crossCells(p));
    }
  }
  out.push(...vmstateCells());
  return out;
}
