export { main } from "./main.js";
export { codecs, detect, parseFormat } from "./registry.js";
