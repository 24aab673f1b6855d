/**
 * The libxc family (2 → 3) in the matrix. Images come from `libxcImage`
 * (@vmstream/testing) and are written by its own encoder `libxcImageBytes`
 * (not the codec's writer). The model of 2 ↔ 3, from Xen's spec: version 3
 * adds STATIC_DATA_END after the static records (X86_PV_INFO, the CPUID/MSR
 * policies) and before the first memory or register record; a v2 stream
 * cannot carry the policy records.
 */
import type fc from "fast-check";
import * as libxl from "@vmstream/libxl";
import * as testing from "@vmstream/testing";
import { versionOf } from "@vmstream/wire-spec";
import { NotImplemented } from "../codec-io.js";
import { type StreamAdapter, expectBytes } from "../stream-pair.js";

type Image = testing.XenLibxcImage;
type Rec = testing.XenLibxcRecord;

function version(v: string): 2 | 3 {
  if (v !== "2" && v !== "3") throw new NotImplemented(`not implemented: no libxc@${v} image arbitrary in @vmstream/testing`);
  return Number(v) as 2 | 3;
}

/** Records that may precede STATIC_DATA_END: the static configuration. */
const STATIC = new Set(["X86_PV_INFO", "X86_CPUID_POLICY", "X86_MSR_POLICY", "OPTIONAL"]);

/** Record codes by name, from the spec's version-3 catalogue. */
const CODE = new Map(versionOf("libxc", "3").records.map((r) => [r.name, r.code]));

function retag(v: Image, at: string): Image {
  const to = version(at);
  let records: Rec[] = v.records.filter((r) => r.type !== "STATIC_DATA_END");
  if (to === 3) {
    const i = records.findIndex((r) => !STATIC.has(r.type));
    records = [...records.slice(0, i), { type: "STATIC_DATA_END" }, ...records.slice(i)];
  }
  return { header: { ...v.header, version: to }, records };
}

export const libxcAdapter: StreamAdapter<Image> = {
  family: "libxc",
  codec: () => libxl.libxcCodec,
  arbitrary(v: string): fc.Arbitrary<Image> {
    const arb = testing.libxcImage;
    return arb({ version: version(v), maxPageRecords: 2, maxPfnsPerRecord: 2 });
  },
  encode: async (_c, v, at) => testing.libxcImageBytes(retagHeader(v, at)),
  expect(c, bytes, v, at) {
    return expectBytes(this, c, bytes, v, at);
  },
  retag,
  fieldValues: (v) => ({
    stream: { xen_major: v.header.xenMajor, xen_minor: v.header.xenMinor },
    descriptors: [],
    recordCodes: v.records.map((r) => (r.type === "OPTIONAL" ? r.code : (CODE.get(r.type) ?? -1))),
  }),
};

/** The header version must match the version written (the encoder writes what the header says). */
function retagHeader(v: Image, at: string): Image {
  const to = version(at);
  return v.header.version === to ? v : { ...v, header: { ...v.header, version: to } };
}
