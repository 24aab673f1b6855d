import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ByteWriter, padding8 } from "@vmstream/framing";
import { contextDescriptorBytes, contextHeaderBytes } from "@vmstream/libxl";
import {
  contextStream,
  legacyImageArb,
  libxcImage,
  libxcImageBytes,
  libxlStream,
  libxlStreamBytes,
  buildQemuStream,
  qemuStreamModel,
  xlFile,
  xlFileBytes,
} from "@vmstream/testing";
import fc from "fast-check";
import { REPO } from "./run.js";

/**
 * Valid inputs per family for the fuzz tests: the fixtures committed in the
 * repository (real tools' bytes) and the structure-aware arbitraries of
 * @vmstream/testing. Mutations are applied on top by the tests.
 */
export const FAMILIES = ["context", "libxc", "libxl", "xl", "legacy", "qemu"] as const;
export type Family = (typeof FAMILIES)[number];

const XEN_FIX = join(REPO, "fixtures/xen");
const CONTEXT_FIX = join(REPO, "fixtures/context");
const QEMU_FIX = join(REPO, "fixtures/qemu");
const QEMU_CORPUS = ["pc-7.2-stopped.mig", "pc-7.2-postcopy.mig", "pc-7.2-uuid.mig", "q35-7.2-smp2.mig"];

function files(dir: string, pick: (name: string) => boolean): string[] {
  return readdirSync(dir)
    .filter(pick)
    .sort()
    .map((n) => join(dir, n));
}

const load = (p: string): Uint8Array => new Uint8Array(readFileSync(p));

/** Fixture paths per family (valid streams of that family). */
export function corpusFiles(family: Family): string[] {
  switch (family) {
    case "context":
      return files(CONTEXT_FIX, (n) => n.endsWith(".bin"));
    case "libxc":
      return files(XEN_FIX, (n) => /^libxc_.*\.bin$|^conv_.*[._]libxc\.bin$/.test(n));
    case "libxl":
      return files(XEN_FIX, (n) => /^libxl_.*\.bin$|^conv_.*[._]libxl\.bin$/.test(n));
    case "xl":
      return files(XEN_FIX, (n) => /^xl_.*\.bin$/.test(n));
    case "legacy":
      return files(XEN_FIX, (n) => /^legacy_.*\.bin$/.test(n));
    case "qemu":
      // The small real streams: each input costs a decode per run, and the larger ones add no structure these lack.
      return files(QEMU_FIX, (n) => QEMU_CORPUS.includes(n));
  }
}

const cache = new Map<Family, Uint8Array[]>();
export function corpus(family: Family, maxBytes = Infinity): Uint8Array[] {
  if (!cache.has(family)) cache.set(family, corpusFiles(family).map(load));
  return cache.get(family)!.filter((b) => b.byteLength <= maxBytes);
}

/** A context stream value as bytes, through the codec's own header and descriptor writers (synchronous). */
function contextBytes(s: { version: 1 | 2; xenMajor: number; xenMinor: number; bigEndian: boolean; records: { type: number; instance: number; body: Uint8Array }[] }): Uint8Array {
  const w = new ByteWriter(1024);
  w.bytes(contextHeaderBytes(s));
  for (const r of s.records) {
    w.bytes(contextDescriptorBytes(s, r.type, r.instance, r.body.byteLength)).bytes(r.body).zeros(padding8(r.body.byteLength));
  }
  w.bytes(contextDescriptorBytes(s, 0, 0, 0));
  return w.finish().slice();
}

/** Structure-aware valid streams of the family, as bytes. */
export function generated(family: Family): fc.Arbitrary<Uint8Array> {
  switch (family) {
    case "context":
      return fc
        .constantFrom(1 as const, 2 as const)
        .chain((version) => contextStream({ version }))
        .map(contextBytes);
    case "libxc":
      return libxcImage().map(libxcImageBytes);
    case "libxl":
      return libxlStream().map(libxlStreamBytes);
    case "xl":
      return xlFile().map(xlFileBytes);
    case "legacy":
      return legacyImageArb().map((x) => x.bytes);
    case "qemu":
      // format 3 (what QEMU writes) and format 4 (SUBSECTIONS_END after every struct)
      return fc.tuple(qemuStreamModel({ maxParts: 2, maxDevices: 3 }), fc.constantFrom(3 as const, 4 as const)).map(([m, v]) => buildQemuStream(m, v));
  }
}
