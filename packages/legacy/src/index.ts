export { legacyCodec, summarize, encodeLegacy, recodeLegacy, type LegacySummary } from "./codec.js";
export { convertLegacy, targetOf, CONVERTED_LIBXC_VERSION, type ConvertReport, type LegacyTarget } from "./convert.js";
export { openLegacy, walkLegacy, ulongSize, MAX_P2M_SIZE, type LegacyItem, type LegacyShape } from "./reader.js";
export { sniffLegacy, detectLegacy, resolveShape, type Sniffed, type Width, type Guest } from "./shape.js";
export { parsePhysmap, physmapPairs, MAX_TOOLSTACK_BLOB, type PhysmapEntry } from "./physmap.js";
export { legacyMemory } from "./memory.js";
