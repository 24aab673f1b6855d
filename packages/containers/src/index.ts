export { type RandomAccess, blobRandomAccess, bytesRandomAccess, readExact } from "./random-access.js";
export { type ContainerKind, CONTAINER_DETECT_BYTES, detectContainer } from "./detect.js";
export { type Transform, sliceSource, webCompress, webDecompress } from "./transform.js";
export { type Qcow2Header, isQcow2, readQcow2Header } from "./qcow2/header.js";
export { type Qcow2Snapshot, l1Span, l2Bits, readSnapshotTable } from "./qcow2/snapshots.js";
export { snapshotDate, vmClock } from "./qcow2/snapshot-time.js";
export { Qcow2VmStateSource } from "./qcow2/vmstate.js";
export { type Qcow2Image, findSnapshot, openQcow2 } from "./qcow2/image.js";
export {
  type SaveCompression,
  type SaveHeader,
  compressionCode,
  compressionName,
  isSaveImage,
  parseSaveHeader,
  writeSaveHeader,
} from "./libvirt/header.js";
export { type SaveImage, checkSaveImage, openSaveImage } from "./libvirt/save-image.js";
export { type SaveImageFields, saveImagePrefix, writeSaveImage } from "./libvirt/write.js";
export { type DomainInfo, type XmlElement, domainInfo, parseXml } from "./libvirt/xml.js";
