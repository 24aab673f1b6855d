/**
 * The domain-context family in the matrix. Values come from
 * `contextStream` (@vmstream/testing), whose field ranges are read from the
 * spec's descriptor layouts; documents follow the `vmstream decode` shape.
 */
import type fc from "fast-check";
import { toBase64 } from "@vmstream/framing";
import * as libxl from "@vmstream/libxl";
import { type ContextStreamValue, contextStream } from "@vmstream/testing";
import { NotImplemented, need, pick } from "../codec-io.js";
import type { FamilyCodec } from "@vmstream/framing";
import type { StreamAdapter } from "../stream-pair.js";

const KNOWN = ["1", "2"];

function version(v: string): 1 | 2 {
  if (!KNOWN.includes(v)) throw new NotImplemented(`not implemented: no context@${v} arbitrary in @vmstream/testing`);
  return Number(v) as 1 | 2;
}

export const contextAdapter: StreamAdapter<ContextStreamValue> = {
  family: "context",
  codec: () => {
    const c = need(pick<FamilyCodec>(libxl, "contextCodec"), "contextCodec in @vmstream/libxl");
    return c;
  },
  arbitrary(v: string): fc.Arbitrary<ContextStreamValue> {
    return contextStream({ version: version(v), maxRecords: 6, maxBody: 40 });
  },
  toDoc(v, at) {
    const doc: Record<string, unknown> = { format: `context@${at}`, xen_major: v.xenMajor, xen_minor: v.xenMinor };
    if (at !== "1") doc.big_endian = v.bigEndian;
    doc.records = v.records.map((r) => ({ type: r.type, instance: r.instance, body: toBase64(r.body) }));
    return doc;
  },
  project(doc) {
    const records = (doc.records as Array<Record<string, unknown>>).map((r) => ({ type: r.type, instance: r.instance, body: r.body }));
    return { format: doc.format, xen_major: doc.xen_major, xen_minor: doc.xen_minor, big_endian: doc.big_endian ?? false, records };
  },
  retag(v, at) {
    // The model of 1 ↔ 2: same records and Xen version; version 1 has no byte-order option.
    return { ...v, version: version(at), bigEndian: at === "1" ? false : v.version === 1 ? false : v.bigEndian };
  },
  fieldValues(v) {
    return {
      stream: { xen_major: v.xenMajor, xen_minor: v.xenMinor, options: v.bigEndian ? 1 : 0 },
      descriptors: v.records.map((r) => ({ type: r.type, instance: r.instance, length: r.body.byteLength })),
      recordCodes: v.records.map((r) => r.type),
    };
  },
};
