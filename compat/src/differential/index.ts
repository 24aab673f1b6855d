export { runDifferential, unexplained, type DifferentialOptions, type DifferentialResult, type ResultRow } from "./run.js";
export { renderDifferential } from "./report.js";
export { readKnownDisagreements, type KnownDisagreement } from "./known.js";
export { QEMU_TARGETS, XEN_TARGETS, qemuBinary } from "./targets.js";
