import { StreamReader, isWireError } from "@vmstream/framing";
import { expect } from "vitest";
import { libxcCodec, libxlCodec, xlCodec } from "../src/index.js";

const codec = { libxc: libxcCodec, libxl: libxlCodec, xl: xlCodec };

/** Our verdict on a case: "accept", or the fault (always a WireError inside the stream). */
export async function verdict(fmt: "libxc" | "libxl" | "xl", b: Uint8Array): Promise<"accept" | "reject"> {
  const c = codec[fmt];
  const v = c.detect(b.subarray(0, 4096)) ?? c.versions[c.versions.length - 1]!;
  try {
    await c.verify(StreamReader.of(b), v, {});
    return "accept";
  } catch (e) {
    if (!isWireError(e)) throw e;
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(b.byteLength);
    return "reject";
  }
}

