/** The QEMU savevm stream codec (formats qemu@3 and qemu@4). */
export { qemuCodec, type QemuCodec } from "./codec.js";
export { AnalyzeEvents, analyzeView, pyJson, type PyValue } from "./analyze.js";
export { summarize, renderSummary, type QemuSummary, type SectionSummary } from "./inspect.js";
export { decodeDoc, decodeDocBytes, encodeDoc, encodeDocText } from "./document.js";
export { parseStream, ParseState, type Ev, type ParseOptions } from "./parse.js";
export { QemuWriter } from "./writer.js";
export { parseVmdesc, compileVmdesc, locateVmdesc, type Vmdesc, type Desc, type DeviceDesc } from "./vmdesc.js";
export { loadDocument, saveDocument } from "../schema/document-codec.js";
export { readRamRecord, writeRamRecord, RamState, type RamRecord, type RamBlock } from "./ram.js";
// The RAM flags are defined, and exported, by @vmstream/wire-spec (QEMU_RAM_FLAG).
export { DEFAULT_PAGE_SIZE } from "./constants.js";
export { exportMemory, x86RamRanges, hexRange, type MemoryTarget, type MemoryReport, type MemoryOptions, type GpaRange } from "./memory.js";
export { applyXbzrle, checkXbzrle } from "./xbzrle.js";
export { walkPageRuns, type PageRun, type PageKind, type PageRunHandlers } from "./page-map.js";
