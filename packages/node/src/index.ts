/**
 * `@vmstream/node`: the Node-only sources and sinks — files, standard input
 * (with a reader thread for pipes) and atomic output files. The codecs and
 * `@vmstream/framing` stay browser-safe; this package is what a Node program
 * adds to read and write real files.
 */
export { fileSource } from "./file-source.js";
export { stdinSource } from "./stdin-source.js";
export { atomicFileSink } from "./atomic-file-sink.js";
export { stdoutSink } from "./stdout-sink.js";
