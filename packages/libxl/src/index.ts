export * from "./context/index.js";

export type { LibxcHeader, LibxcRecord, LibxcRecordType, PageEntry, CpuidLeaf } from "./libxc/model.js";
export { LIBXC_NAMES, LIBXC_CODES, LIBXC_REC, libxcRecordName, domainTypeName } from "./libxc/model.js";
export {
  PAGE_SIZE,
  pageTypeNibble,
  pageTypeHasData,
  writeImageHeader,
  writeDomainHeader,
  writeLibxcHeader,
  writeLibxcRecord,
  writePageDataHead,
  pageDataLength,
  libxcRecordBytes,
  writeLibxcImage,
} from "./libxc/writer.js";
export { LibxcReader, type LibxcReadMode, type LibxcRecordInfo, type LibxcReaderOptions, type LibxcStats } from "./libxc/reader.js";
export { type QemuTail, qemuTailBytes } from "./libxc/tail.js";
export {
  libxcCodec,
  detectLibxc,
  walkLibxc,
  verifyLibxc,
  readLibxc,
  writeLibxc,
  inspectLibxc,
  libxcFromJson,
  libxcDocJson,
  type LibxcImage,
} from "./libxc/codec.js";
export { libxcRecordFromJson } from "./libxc/json.js";

export type { LibxlRecord } from "./libxl/model.js";
export { LIBXL_REC, LIBXL_OPT_LEGACY, EMULATORS, libxlRecordName } from "./libxl/model.js";
export { writeLibxlHeader, writeLibxlRecord } from "./libxl/writer.js";
export { readLibxlHeader, walkLibxl, type LibxlHeader, type LibxlItem } from "./libxl/reader.js";
export { parseXenstore, xenstoreBytes } from "./libxl/xenstore.js";
export {
  libxlCodec,
  detectLibxl,
  verifyLibxl,
  readLibxl,
  writeLibxl,
  libxlRecordFromJson,
  type LibxlEntry,
  type LibxlStream,
} from "./libxl/codec.js";

export {
  XL_FLAG_JSON,
  XL_FLAG_STREAMV2,
  XL_HEADER_SIZE,
  type XlHeader,
  type XlFixedHeader,
  hasXlMagic,
  readXlHeader,
  readXlFixedHeader,
  writeXlHeader,
  writeXlFixedHeader,
  xlSaveHeader,
  xlHeaderBytes,
} from "./xl/header.js";
export { xlCodec, detectXl, verifyXl, readXl, writeXl, type XlFile } from "./xl/codec.js";

export { readStreamedDocument, type StreamedDocument } from "./doc-stream.js";

export { xenMemory, carryPage, noDataPage, newXenReport, PfnSet, XEN_PAGE_SIZE, type PfnTarget, type XenMemoryReport } from "./libxc/memory.js";
