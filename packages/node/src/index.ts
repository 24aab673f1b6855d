/**
 * `@vmstream/node`: the Node-only sources and sinks — files, standard input
 * (with a reader thread for pipes) and atomic output files. The codecs and
 * `@vmstream/framing` stay browser-safe; this package is what a Node program
 * adds to read and write real files.
 */
export { atomicCopy, atomicFileSink, fileSource, tmpName } from "./files.js";
export { stdinSource, stdoutSink } from "./stdio.js";
