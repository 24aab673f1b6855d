export * from "./context/index.js";
