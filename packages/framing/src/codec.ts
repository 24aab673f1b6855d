import type { Sink } from "./sink.js";
import type { StreamReader } from "./stream-reader.js";

/** `family@version`, e.g. `context@2`. */
export interface FormatId {
  family: string;
  version: string;
}

export const formatName = (f: FormatId): string => `${f.family}@${f.version}`;

/** Options every operation may receive; families read the ones they know. */
export interface CodecOptions {
  /** `inspect --view NAME` (e.g. `analyze` for QEMU). */
  view?: string;
  /** Xen legacy width and guest type when the bytes cannot tell. */
  width?: 32 | 64;
  guest?: "pv" | "hvm";
  /** A second stream whose schema helps (QEMU vmdesc borrowed from a sibling). */
  schema?: () => Promise<StreamReader>;
  [key: string]: unknown;
}

/** What `inspect` returns: a JSON-able summary plus a readable rendering of it. */
export interface Inspection {
  format: string;
  /** JSON value printed by `inspect --json`. */
  json: unknown;
  /** Human summary printed by `inspect`. */
  text: string;
}

export interface VerifyReport {
  format: string;
  /** Records/sections checked; purely informative. */
  items: number;
  bytes: number;
  /** Non-fatal remarks (skipped optional records…). */
  notes: string[];
  /**
   * Damage that the real loader would not notice (for QEMU: a cut or corrupt
   * vmdesc trailer after the EOF byte, bytes after the end): the state loads,
   * the file is not intact. `vmstream verify --strict` fails on them.
   */
  warnings?: { offset: number; code: string; message: string }[];
}

/**
 * One family's implementation of every CLI operation. The CLI owns files,
 * flags and exit codes; a codec sees only readers and sinks, so it runs the
 * same in Node and in a browser worker. Faults are thrown as WireError.
 */
export interface FamilyCodec {
  readonly family: string;
  readonly versions: readonly string[];
  /** The version if `head` (the first bytes of a stream, up to 4 KiB) is this family's. */
  detect(head: Uint8Array): string | null;
  inspect(input: StreamReader, version: string, opts: CodecOptions): Promise<Inspection>;
  verify(input: StreamReader, version: string, opts: CodecOptions): Promise<VerifyReport>;
  /** The lossless JSON document, as text pieces (it may be larger than a string can hold). */
  decode(input: StreamReader, version: string, opts: CodecOptions): AsyncIterable<string>;
  /**
   * The same document as UTF-8 bytes, in blocks the codec reuses once the
   * next is asked for (so a consumer writes or copies each first): `decode`
   * without a string per page, what the CLI writes. `decode` is its text.
   */
  decodeBytes?(input: StreamReader, version: string, opts: CodecOptions): AsyncIterable<Uint8Array>;
  /** Write the stream a decoded document describes (its `format` names family and version). */
  encode(doc: unknown, out: Sink, opts: CodecOptions): Promise<void>;
  /**
   * `encode` from the document's JSON text, without holding the document whole
   * (optional: for families whose documents can outgrow a JavaScript string).
   */
  encodeStream?(json: StreamReader, out: Sink, opts: CodecOptions): Promise<void>;
  /** Decode and re-encode in one streaming pass. */
  recode(input: StreamReader, version: string, out: Sink, opts: CodecOptions): Promise<void>;
  /**
   * For families whose recode writes the bytes it read: the check recode
   * runs, without writing, leaving `input.offset` just after the last byte
   * recode would write. A caller that can copy the input's bytes by other
   * means (the CLI: the kernel's copy of one file into another, while this
   * runs) writes the same output. The Xen families' recode is the identity
   * by construction (it passes the checked bytes through); QEMU's re-encodes,
   * and its check compares what it would write with what it read
   * (`SameBytes`), throwing `NotIdentityError` where they differ: the caller
   * then recodes the usual way.
   */
  recodeCheck?(input: StreamReader, version: string, opts: CodecOptions): Promise<void>;
  /** Convert to another format; throw RefusedError naming what would be lost. */
  convert?(input: StreamReader, version: string, to: FormatId, out: Sink, opts: CodecOptions): Promise<void>;
  /** Targets `convert` accepts from `version`. */
  convertTargets?(version: string): FormatId[];
}
