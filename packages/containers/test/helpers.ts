import { readFileSync } from "node:fs";
import { type Source, StreamReader, readAll } from "@vmstream/framing";

export const ARTEFACTS = new URL("../../../fixtures/artefacts/", import.meta.url);
export const artefact = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, ARTEFACTS)));
export const artefactPath = (name: string): string => new URL(name, ARTEFACTS).pathname;

/** Every byte of a Source, read in odd-sized pieces so cluster and chunk boundaries fall anywhere. */
export function drain(src: Source, piece = 70_001): Promise<Uint8Array> {
  return readAll(new StreamReader(src, { chunkSize: piece }));
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
