/**
 * The domain-context family in the matrix. Values come from `contextStream`
 * (@vmstream/testing), whose field ranges are read from the spec's descriptor
 * layouts. Streams are written by the codec from the `vmstream decode`
 * document built here by hand; what a conversion must give back is checked on
 * the decoded document, against the model of 1 ↔ 2 (same records and Xen
 * version; version 1 has no byte-order option).
 */
import type fc from "fast-check";
import { toBase64 } from "@vmstream/framing";
import * as libxl from "@vmstream/libxl";
import { type ContextStreamValue, contextStream } from "@vmstream/testing";
import { NotImplemented, decodeDoc, encodeDoc, sameValue } from "../codec-io.js";
import type { StreamAdapter } from "../stream-pair.js";

const KNOWN = ["1", "2"];

function version(v: string): 1 | 2 {
  if (!KNOWN.includes(v)) throw new NotImplemented(`not implemented: no context@${v} arbitrary in @vmstream/testing`);
  return Number(v) as 1 | 2;
}

/** The `vmstream decode` document of a value at a version (the JSON contract, built without the codec). */
function toDoc(v: ContextStreamValue, at: string): Record<string, unknown> {
  const doc: Record<string, unknown> = { format: `context@${at}`, xen_major: v.xenMajor, xen_minor: v.xenMinor };
  if (at !== "1") doc.big_endian = v.bigEndian;
  doc.records = v.records.map((r) => ({ type: r.type, instance: r.instance, body: toBase64(r.body) }));
  return doc;
}

/** The comparable part of a decoded document (drops offsets and lengths, which the codec derives). */
function project(doc: Record<string, unknown>): unknown {
  const records = (doc.records as Array<Record<string, unknown>>).map((r) => ({ type: r.type, instance: r.instance, body: r.body }));
  return { format: doc.format, xen_major: doc.xen_major, xen_minor: doc.xen_minor, big_endian: doc.big_endian ?? false, records };
}

const show = (x: unknown): string => {
  const s = JSON.stringify(x);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

export const contextAdapter: StreamAdapter<ContextStreamValue> = {
  family: "context",
  codec: () => libxl.contextCodec,
  arbitrary(v: string): fc.Arbitrary<ContextStreamValue> {
    return contextStream({ version: version(v), maxRecords: 6, maxBody: 40 });
  },
  encode: (c, v, at) => encodeDoc(c, toDoc(v, at)),
  async expect(c, bytes, v, at) {
    const got = project(await decodeDoc(c, bytes, at));
    const want = project(toDoc(this.retag(v, at), at));
    if (!sameValue(got, want)) throw new Error(`context@${at}: decoded ${show(got)}, expected ${show(want)}`);
  },
  retag(v, at) {
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
