export * from "./run.js";
export * from "./files.js";
export * from "./spec-diff.js";
export { matrixCells } from "./pairs.js";
export { runCell, type CellSpec, type RunParams } from "./cell.js";
