export { diffDevices, type DeviceDiff, type DeviceSide, type FieldDiff, type FieldReason, type SectionRef } from "./devices.js";
export { formatDeviceDiff, formatFieldDiff } from "./format.js";
export { PageDigests, diffRam, type RamBlockDiff } from "./ram.js";
