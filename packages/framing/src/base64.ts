import { MalformedError } from "./errors.js";

const ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ENC = new Uint8Array(64);
const DEC = new Int16Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  ENC[i] = ALPHA.charCodeAt(i);
  DEC[ALPHA.charCodeAt(i)] = i;
}
const td = new TextDecoder();

/**
 * Node's native encoder when there is one (page data is most of a decoded
 * document: this is `decode`'s hot path); found at run time, so the module
 * stays browser-safe and falls back to the loop below.
 */
type NativeBuffer = { base64Slice(start: number, end: number): string };
const NodeBuffer = (globalThis as unknown as { Buffer?: { from(a: ArrayBufferLike, o: number, n: number): NativeBuffer } }).Buffer;
const native = typeof NodeBuffer?.from === "function" && typeof (NodeBuffer.from(new ArrayBuffer(3), 0, 3) as Partial<NativeBuffer>).base64Slice === "function";

/** Standard base64 with padding; browser-safe (Node's Buffer only when present). */
export function toBase64(b: Uint8Array): string {
  const n = b.byteLength;
  if (native && n >= 64) return NodeBuffer!.from(b.buffer, b.byteOffset, n).base64Slice(0, n);
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out[o++] = ENC[v >>> 18]!;
    out[o++] = ENC[(v >>> 12) & 63]!;
    out[o++] = ENC[(v >>> 6) & 63]!;
    out[o++] = ENC[v & 63]!;
  }
  if (i < n) {
    const v = (b[i]! << 16) | ((i + 1 < n ? b[i + 1]! : 0) << 8);
    out[o++] = ENC[v >>> 18]!;
    out[o++] = ENC[(v >>> 12) & 63]!;
    out[o++] = i + 1 < n ? ENC[(v >>> 6) & 63]! : 61;
    out[o++] = 61;
  }
  return td.decode(out);
}

/**
 * Strict base64 decoding; `what` names the JSON field in errors. Bytes pass
 * through as they are: the streaming JSON reader decodes long base64 members
 * straight to bytes (JsonReader.object), and document readers take either.
 */
export function fromBase64(v: unknown, what = "base64"): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v !== "string") throw new MalformedError(`${what}: expected a base64 string`, 0);
  const s = v;
  if (s.length % 4 !== 0) throw new MalformedError(`${what}: base64 length ${s.length} is not a multiple of 4`, 0);
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const a = DEC[s.charCodeAt(i)]!;
    const b = DEC[s.charCodeAt(i + 1)]!;
    const c = s.charCodeAt(i + 2) === 61 && i + 4 === s.length ? 0 : DEC[s.charCodeAt(i + 2)]!;
    const d = s.charCodeAt(i + 3) === 61 && i + 4 === s.length ? 0 : DEC[s.charCodeAt(i + 3)]!;
    if ((a | b | c | d) < 0) throw new MalformedError(`${what}: invalid base64 near character ${i}`, 0);
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    if (o < out.length) out[o++] = (v >>> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}
