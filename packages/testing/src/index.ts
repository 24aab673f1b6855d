export * from "./seed.js";
export * from "./context.js";
export * from "./xen.js";
export * from "./legacy.js";
export * from "./qemu.js";
export * from "./vmstate.js";
export * from "./mutate.js";
export * from "./matrix.js";
