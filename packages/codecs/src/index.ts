/**
 * `@vmstream/codecs`: which families exist, how to load each codec, and how a
 * stream's format is recognised — shared by the `vmstream` command and the web
 * inspector. This entry loads codecs lazily (one package per stream); the
 * `@vmstream/codecs/all` entry imports every codec at once for bundles.
 */
export { CODECS, type CodecEntry } from "./families.js";
export { DETECT_BYTES, type Detected, detectFormat, loadCodec } from "./detect.js";
export { UnknownFormatError, familyTitle, parseFormat } from "./format.js";
