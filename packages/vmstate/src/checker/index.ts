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
