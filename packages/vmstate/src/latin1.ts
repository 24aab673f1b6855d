/**
 * Names in a savevm stream (idstrs, RAM block names, subsection names) are
 * counted byte strings with no declared encoding. They are kept as latin1
 * strings (one char per byte) so any byte survives a JSON round trip. The one
 * home of those conversions, named by direction, for the stream codec and the
 * VMState interpreter alike.
 */

/** Bytes → a latin1 string (one char per byte). */
export function bytesToLatin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** A latin1 string → its bytes; null if it holds a char above 0xff. */
export function latin1ToBytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return null;
    out[i] = c;
  }
  return out;
}

/**
 * The bytes a C string literal with this name would hold: latin1 when it fits,
 * else UTF-8 (how a description's name from JSON compares with stream bytes).
 */
export function nameToBytes(s: string): Uint8Array {
  return latin1ToBytes(s) ?? new TextEncoder().encode(s);
}

const utf8 = new TextDecoder();
/** How Python's `bytes.decode('utf-8')` would read a latin1-held name (analyze output). */
export function latin1AsUtf8(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.decode(latin1ToBytes(s)!);
  return s;
}
