export { diffDevices, type DeviceDiff, type DeviceSide, type FieldDiff, type FieldReason, type SectionRef } from "./devices.js";
export { formatDeviceDiff, formatFieldDiff, diffSides, formatDiff, type DiffReport, type DiffSideInfo, type RamSizeDiff } from "./format.js";
export { NeedsPageStore, PageDigests, diffRam, type PageStore, type RamBlockDiff } from "./ram.js";
export { readRam, type DiffSide, type RamSide, type SectionHead } from "./side.js";
