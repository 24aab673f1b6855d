export { schemaDiff, parseVmstateDump, formatFinding, findingJson, schemaDiffExitCode, type Finding, type FindingCode } from "./diff.js";
export {
  dumpVmstate,
  dumpVmstateFile,
  dumpDescription,
  type DumpSection,
  type DumpDescription,
  type DumpField,
  type VmstateDump,
} from "./dump.js";
export {
  wireDiff,
  formatWireFinding,
  wireFindingJson,
  wireDiffExitCode,
  conditionText,
  atomText,
  type WireDiff,
  type WireFinding,
  type WireCode,
  type WireEffect,
  type WireKind,
  type WireSeverity,
  type DeviceVerdict,
  type Condition,
  type Atom,
} from "./wire-diff.js";
export { NumTable } from "./layout.js";
export { vmsdFromDump, dumpConditions, OPAQUE_MARK, type DumpWorld } from "./model.js";
export { preflight, streamFacts, type StreamFacts, type PreflightCause, type PreflightResult, type PreflightDest, type CauseCode } from "./preflight.js";
export { dumpFromVmdesc } from "./vmdesc-dump.js";
export { compareSections } from "./wire-diff.js";
