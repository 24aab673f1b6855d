/** VMState device schemas in the matrix: every adjacent version pair of each sample device. */
import type { CellSpec } from "../cell.js";

export function vmstateCells(): CellSpec[] {
  return [];
}
