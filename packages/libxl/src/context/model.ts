/** A decoded domain-context stream, version-independent. */
export interface ContextRecord {
  type: number;
  instance: number;
  body: Uint8Array;
}

export interface ContextStream {
  version: 1 | 2;
  xenMajor: number;
  xenMinor: number;
  /** Version 2 only: records in big-endian order (options bit 0). Always false in version 1. */
  bigEndian: boolean;
  /** Records between the header and END (END itself and the v1 HEADER record are implicit). */
  records: ContextRecord[];
}

export const CONTEXT_END = 0;
export const CONTEXT_HEADER = 1;
export const CONTEXT_V2_OPTION_BIG_ENDIAN = 0x0001;
