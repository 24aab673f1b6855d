/**
 * Deterministic filler for bench inputs: xorshift128+ words written straight
 * into a buffer. Random bytes defeat any accidental shortcut (zero pages,
 * compressible runs) so the numbers reflect real RAM contents.
 */
export function prng(seed = 0x9e3779b9) {
  let s0 = seed >>> 0 || 1;
  let s1 = 0x6a09e667;
  const next = () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return (s0 + s1) >>> 0;
  };
  return {
    next,
    /** Fill `buf` with pseudo-random bytes, 4 at a time. */
    fill(buf) {
      const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2);
      for (let i = 0; i < words.length; i++) words[i] = next();
      for (let i = words.length << 2; i < buf.byteLength; i++) buf[i] = next() & 0xff;
      return buf;
    },
  };
}
