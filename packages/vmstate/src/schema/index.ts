export * from "./types.js";
export { loadState, saveState, saveWithVmdesc, type LoadOptions, type SaveOptions, type VmdescEntryOptions } from "./api.js";
export { QemuJsonWriter, quote } from "./json-writer.js";
export { compileVmsd, infoName, canCompress, type GtreeEntry, type VmsdPlan, type FieldPlan } from "./plan.js";
export { loadStateFrom, type StreamLoadOptions } from "./stream-load.js";
export { vmsdFromVmdesc } from "./from-vmdesc.js";
