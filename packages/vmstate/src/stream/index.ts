/** The QEMU savevm stream codec (formats qemu@3 and qemu@4). */
export { qemuCodec, type QemuCodec } from "./codec.js";
export { analyzeView as analyzeQemu, pyJson, type PyValue } from "./analyze.js";
export { summarize as summarizeQemu, renderSummary as renderQemuSummary, type QemuSummary, type SectionSummary as QemuSectionSummary } from "./inspect.js";
export { decodeDoc as decodeQemu, encodeDoc as encodeQemu, encodeDocText as encodeQemuText } from "./document.js";
export { parseStream as parseQemuStream, ParseState as QemuParseState, type Ev as QemuEvent, type ParseOptions as QemuParseOptions } from "./parse.js";
export { QemuWriter } from "./writer.js";
export { parseVmdesc, compileVmdesc, locateVmdesc, type Vmdesc, type Desc as VmdescDesc, type DeviceDesc as VmdescDevice } from "./vmdesc.js";
export { readRamRecord, writeRamRecord, RamState as QemuRamState, type RamRecord as QemuRamRecord, type RamBlock as QemuRamBlock } from "./ram.js";
export { RAM_FLAG as QEMU_RAM_FLAGS, DEFAULT_PAGE_SIZE as QEMU_DEFAULT_PAGE_SIZE } from "./constants.js";
export { exportMemory, x86RamRanges, hexRange, type MemoryTarget, type MemoryReport, type MemoryOptions, type GpaRange } from "./memory.js";
export { applyXbzrle, checkXbzrle } from "./xbzrle.js";
