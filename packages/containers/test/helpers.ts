import { readFileSync } from "node:fs";
import type { Source } from "@vmstream/framing";

export const ARTEFACTS = new URL("../../../fixtures/artefacts/", import.meta.url);
export const artefact = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, ARTEFACTS)));
export const artefactPath = (name: string): string => new URL(name, ARTEFACTS).pathname;

/** Every byte of a Source, read in odd-sized pieces so cluster and chunk boundaries fall anywhere. */
export async function drain(src: Source, piece = 70_001): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(piece);
  for (;;) {
    const n = await src.read(buf);
    if (n === 0) break;
    parts.push(buf.slice(0, n));
    total += n;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Run `fn`, expecting a WireError; resolve it (and how long it took) for the test to examine. */
export async function fault(fn: () => Promise<unknown>): Promise<{ code: string; offset: number; message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    const w = e as { code?: string; offset?: number; message: string; name: string };
    if (typeof w.offset !== "number" || typeof w.code !== "string") throw e;
    return { code: w.code, offset: w.offset, message: w.message, ms: Date.now() - t0 };
  }
  throw new Error("expected a WireError, got success");
}
