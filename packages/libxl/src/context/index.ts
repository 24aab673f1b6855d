export * from "./model.js";
export { detectContext, readContextHeader, readContextDescriptor, finishContextRecord } from "./reader.js";
export type { ContextHeaderInfo, ContextDescriptor } from "./reader.js";
export { contextHeaderBytes, contextDescriptorBytes, writeContext } from "./writer.js";
export { contextCodec, readContext, contextFromJson } from "./codec.js";
