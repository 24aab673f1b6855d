export {};
export * from "./schema/index.js";
export * from "./checker/index.js";
export * from "./samples/index.js";
export * from "./stream/index.js";
export * from "./diff/index.js";
