export {
  QEMU_RELEASES,
  type QemuRelease,
  type QemuPeer,
  peersDir,
  qemuRelease,
  analyzeMigration,
  staticChecker,
  qemuImg,
  qemuIo,
  chromiumPath,
  which,
} from "./location.js";
export { type XenTool, type XenToolName, xenTool } from "./xen.js";
export { interopRequired, requirePeer } from "./require.js";
export { QemuMonitor, QemuExited, MonitorTimeout } from "./monitor.js";
export { type MigrationParams, type LoadOptions, type LoadResult, migrateTo, saveStream, loadStream, dumpGuestMemory } from "./migrate.js";
export { LIBVIRT_URI, type Libvirt, type VirshResult, startLibvirt, virsh } from "./libvirt.js";
