/** libxl stream records as values (JSON form: bigint → string, bytes → base64). */
export type LibxlRecord =
  | { type: "END" | "LIBXC_CONTEXT" | "CHECKPOINT_END" }
  | {
      type: "EMULATOR_XENSTORE_DATA";
      emulator_id: number;
      index: number;
      /** Key/value pairs in stream order (duplicates kept). */
      entries: Array<[string, string]>;
    }
  | { type: "EMULATOR_CONTEXT"; emulator_id: number; index: number; data: Uint8Array }
  | { type: "CHECKPOINT_STATE"; control_id: number }
  | { type: "OPTIONAL"; code: number; body: Uint8Array };

export const LIBXL_REC = {
  END: 0,
  LIBXC_CONTEXT: 1,
  EMULATOR_XENSTORE_DATA: 2,
  EMULATOR_CONTEXT: 3,
  CHECKPOINT_END: 4,
  CHECKPOINT_STATE: 5,
} as const;

const NAMES = ["END", "LIBXC_CONTEXT", "EMULATOR_XENSTORE_DATA", "EMULATOR_CONTEXT", "CHECKPOINT_END", "CHECKPOINT_STATE"];

export const libxlRecordName = (code: number): string =>
  NAMES[code] ?? `${code & 0x8000_0000 ? "optional" : "unknown"} 0x${code.toString(16).padStart(8, "0")}`;

export const EMULATORS: Readonly<Record<number, string>> = { 0: "unknown", 1: "qemu-traditional", 2: "qemu-upstream" };

/** libxl header option bits. */
export const LIBXL_OPT_BIG_ENDIAN = 1;
export const LIBXL_OPT_LEGACY = 2;
