/** Little-endian reads from a view, without a DataView per record (hot paths). */
export const le32 = (b: Uint8Array, i: number): number =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

export const le64 = (b: Uint8Array, i: number): bigint =>
  (BigInt(le32(b, i + 4)) << 32n) | BigInt(le32(b, i));

export const be32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;

export const be16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;

export const le16 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8);

/** Index of the first non-zero byte in b[from, to), or -1. */
export function firstNonZero(b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (b[i] !== 0) return i;
  return -1;
}

export const hex32 = (v: number): string => `0x${v.toString(16).padStart(8, "0")}`;
