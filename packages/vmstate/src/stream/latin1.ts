/**
 * Names in a savevm stream (idstrs, RAM block names, subsection names) are
 * counted byte strings with no declared encoding. They are kept as latin1
 * strings (one char per byte) so any byte survives a JSON round trip.
 */
export function latin1(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i++) s += String.fromCharCode(b[i]!);
  return s;
}

/** The bytes of a latin1 string; null if it holds a char above 0xff. */
export function latin1Bytes(s: string): Uint8Array | null {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return null;
    out[i] = c;
  }
  return out;
}

const utf8 = new TextDecoder();
/** How Python's `bytes.decode('utf-8')` would read a latin1-held name (analyze output). */
export function asUtf8(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return utf8.decode(latin1Bytes(s)!);
  return s;
}
