/**
 * The QEMU stream family (3 ↔ 4) in the matrix. Streams come from
 * `qemuStreamModel` + `buildQemuStream` (@vmstream/testing), an encoder that
 * never calls @vmstream/vmstate: a conversion must produce exactly the bytes
 * that encoder writes for the same model in the other format (format 4 adds a
 * SUBSECTIONS_END after every description; nothing else changes).
 */
import type fc from "fast-check";
import * as testing from "@vmstream/testing";
import * as vmstate from "@vmstream/vmstate";
import { NotImplemented } from "../codec-io.js";
import { type StreamAdapter, expectBytes } from "../stream-pair.js";

type Model = testing.QemuStreamModel;

function version(v: string): 3 | 4 {
  if (v !== "3" && v !== "4") throw new NotImplemented(`not implemented: no qemu@${v} stream encoder in @vmstream/testing`);
  return Number(v) as 3 | 4;
}

const build = () => testing.buildQemuStream;

export const qemuAdapter: StreamAdapter<Model> = {
  family: "qemu",
  codec: () => vmstate.qemuCodec,
  arbitrary(v: string): fc.Arbitrary<Model> {
    version(v);
    const arb = testing.qemuStreamModel;
    // Small streams: the property is about framing, not volume.
    return arb({ maxParts: 2, maxDevices: 3 });
  },
  encode: async (_c, v, at) => build()(v, version(at)),
  expect(c, bytes, v, at) {
    return expectBytes(this, c, bytes, v, at);
  },
  // The model is format-independent: the same devices and RAM in either format.
  retag: (v) => v,
  fieldValues: (v) => ({ stream: {}, descriptors: [], recordCodes: v.devices.length ? [] : [] }),
};
