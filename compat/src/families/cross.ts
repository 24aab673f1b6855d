/**
 * Cross-family conversions declared in the spec (legacy → libxc, legacy →
 * libxl). Images come from `legacyImageArb` (@vmstream/testing), whose encoder
 * lays bytes out as a Xen ≤ 4.5 toolstack did, independently of
 * @vmstream/legacy. The conversions are one-way by declaration, so:
 *
 * - upgrade: convert to the declared target; the output decodes at the target
 *   version and carries exactly the guest memory of the image (pfn → page) and
 *   its TSC info;
 * - downgrade: the target codec refuses to convert back (typed REFUSED naming
 *   the legacy format), never writes something;
 * - forward: the legacy reader on the converted stream rejects it with a
 *   typed error;
 * - static-dynamic: the codecs' declared targets match the spec's declared
 *   conversions (legacy lists the target; the target does not list legacy),
 *   and every image converts (the spec declares no lossy case for them).
 */
import fc from "fast-check";
import { type FamilyCodec, StreamReader, fromBase64 } from "@vmstream/framing";
import * as legacy from "@vmstream/legacy";
import * as libxl from "@vmstream/libxl";
import * as testing from "@vmstream/testing";
import { LIBXC_PAGE_TYPES, type VersionPair, family as familySpec } from "@vmstream/wire-spec";
import type { AnyProperty, CellSpec } from "../cell.js";
import { attempt, bytesEqual, convertBytes, decodeDoc, describeError } from "../codec-io.js";

type Image = { model: testing.LegacyImageModel; bytes: Uint8Array };

const CODECS: Record<string, FamilyCodec> = {
  legacy: legacy.legacyCodec,
  libxc: libxl.libxcCodec,
  libxl: libxl.libxlCodec,
  xl: libxl.xlCodec,
};

function codecOf(family: string): FamilyCodec {
  const codec = CODECS[family];
  if (!codec) throw new Error(`no codec known for ${family}`);
  return codec;
}

function images(width: string): fc.Arbitrary<Image> {
  const arb = testing.legacyImageArb;
  if (width !== "32" && width !== "64") throw new Error(`legacy@${width} is not a width`);
  return arb({ width: Number(width) as 32 | 64, maxBatches: 4 });
}

/** Guest memory of a legacy model: pfn → page bytes, later batches overriding earlier ones. */
function modelPages(m: testing.LegacyImageModel): Map<number, Uint8Array> {
  const page = testing.legacyPage;
  const out = new Map<number, Uint8Array>();
  for (const c of m.chunks) {
    if (c.kind !== "batch") continue;
    for (const e of c.entries) if (e.type < 0xd && !(e.type === 0xf && e.pfn === 0)) out.set(e.pfn, page(e.pfn, e.fill));
  }
  return out;
}

const DATA_TYPES = new Set(LIBXC_PAGE_TYPES.flatMap((t) => (t?.data ? [t.name] : [])));

/** Every object in a decoded document whose `type` is `name`, wherever the family nests it. */
function findRecords(doc: unknown, name: string, out: Record<string, unknown>[] = []): Record<string, unknown>[] {
  if (Array.isArray(doc)) for (const x of doc) findRecords(x, name, out);
  else if (doc && typeof doc === "object") {
    const o = doc as Record<string, unknown>;
    if (o.type === name) out.push(o);
    for (const v of Object.values(o)) if (v && typeof v === "object") findRecords(v, name, out);
  }
  return out;
}

/** Guest memory of a decoded libxc/libxl document: pfn → page bytes from its PAGE_DATA records. */
function docPages(doc: unknown): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  for (const r of findRecords(doc, "PAGE_DATA")) {
    const data = fromBase64(String(r.data ?? ""), "PAGE_DATA.data");
    let k = 0;
    for (const p of r.pages as Array<{ pfn: number; type: string }>) {
      if (!DATA_TYPES.has(p.type)) continue;
      out.set(Number(p.pfn), data.subarray(4096 * k, 4096 * (k + 1)));
      k++;
    }
  }
  return out;
}

function samePages(want: Map<number, Uint8Array>, got: Map<number, Uint8Array>): string | null {
  for (const [pfn, p] of want) {
    const q = got.get(pfn);
    if (!q) return `page ${pfn} is missing from the output`;
    if (!bytesEqual(p, q)) return `page ${pfn} differs`;
  }
  for (const pfn of got.keys()) if (!want.has(pfn)) return `page ${pfn} appears from nowhere`;
  return null;
}

function checkTsc(m: testing.LegacyImageModel, doc: unknown): string | null {
  const want = m.chunks.filter((c) => c.kind === "tsc").at(-1);
  const got = findRecords(doc, "X86_TSC_INFO").at(-1);
  if (!want) return null;
  if (!got) return "X86_TSC_INFO is missing from the output";
  if (Number(got.mode) !== want.mode || String(got.nsec) !== String(want.nsec) || Number(got.khz) !== want.khz || Number(got.incarnation) !== want.incarnation) {
    return `X86_TSC_INFO differs: ${JSON.stringify(got)}`;
  }
  return null;
}

export function crossCells(p: VersionPair): CellSpec[] {
  const [toFamily, toVersion] = p.to.split("@") as [string, string];
  const target = { family: toFamily, version: toVersion };
  const source = { family: p.family, version: p.from };
  const cell = (property: CellSpec["property"], build: () => AnyProperty): CellSpec => ({ family: p.family, from: p.from, to: p.to, property, build });

  async function upgrade(src: FamilyCodec, dst: FamilyCodec, img: Image): Promise<void> {
    const out = await convertBytes(src, img.bytes, p.from, target);
    const r = await attempt(() => decodeDoc(dst, out, toVersion));
    if (!r.ok) throw new Error(`the converted stream does not decode as ${p.to}: ${r.wire ? r.wire.message : describeError(r.error)}`);
    const why = samePages(modelPages(img.model), docPages(r.value)) ?? checkTsc(img.model, r.value);
    if (why) throw new Error(`legacy@${p.from} → ${p.to}: ${why}`);
  }

  return [
    cell("upgrade", () => {
      const src = codecOf(p.family);
      const dst = codecOf(toFamily);
      return fc.asyncProperty(images(p.from), (img) => upgrade(src, dst, img));
    }),
    cell("downgrade", () => {
      const src = codecOf(p.family);
      const dst = codecOf(toFamily);
      return fc.asyncProperty(images(p.from), async (img) => {
        const out = await convertBytes(src, img.bytes, p.from, target);
        const r = await attempt(() => convertBytes(dst, out, toVersion, source));
        if (r.ok) throw new Error(`${p.to} → legacy@${p.from} wrote ${r.value.byteLength} bytes; the spec declares the conversion one-way`);
        if (r.wire === null) throw new Error(`${p.to} → legacy threw a non-wire error: ${describeError(r.error)}`);
        if (r.wire.code !== "REFUSED" || !r.wire.message.includes("legacy")) throw new Error(`${p.to} → legacy failed without naming it: ${r.wire.code} ${r.wire.message}`);
      });
    }),
    cell("forward", () => {
      const src = codecOf(p.family);
      return fc.asyncProperty(images(p.from), async (img) => {
        const out = await convertBytes(src, img.bytes, p.from, target);
        const r = await attempt(() => src.verify(StreamReader.of(out), p.from, {}));
        if (r.ok) throw new Error(`a legacy@${p.from} reader accepted a ${p.to} stream`);
        if (r.wire === null) throw new Error(`the legacy reader threw a non-wire error on ${p.to} data: ${describeError(r.error)}`);
      });
    }),
    cell("static-dynamic", () => {
      const src = codecOf(p.family);
      const dst = codecOf(toFamily);
      const declared = familySpec(p.family).conversions ?? [];
      const forward = declared.some((c) => c.from.version === p.from && c.to.family === toFamily && c.to.version === toVersion);
      const backward = (familySpec(toFamily).conversions ?? []).some((c) => c.to.family === p.family);
      const listsTarget = (src.convertTargets?.(p.from) ?? []).some((t) => t.family === toFamily && t.version === toVersion);
      const listsBack = (dst.convertTargets?.(toVersion) ?? []).some((t) => t.family === p.family);
      return fc.asyncProperty(images(p.from), async (img) => {
        if (forward !== listsTarget) throw new Error(`the spec ${forward ? "declares" : "does not declare"} ${source.family}@${p.from} → ${p.to}; the legacy codec's convertTargets ${listsTarget ? "lists" : "does not list"} it`);
        if (backward !== listsBack) throw new Error(`the spec ${backward ? "declares" : "does not declare"} a way back; the ${toFamily} codec's convertTargets ${listsBack ? "lists" : "does not list"} one`);
        await upgrade(src, dst, img);
      });
    }),
  ];
}
