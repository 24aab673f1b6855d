/**
 * Release compatibility: every golden vector in vectors/<family>/<version>/
 * decodes with today's codec to exactly its frozen JSON, re-encodes to exactly
 * its bytes (from the JSON, and in one streaming recode), and is detected as
 * its own version. A frozen vector (one that shipped) never changes: its
 * sha256 sums are in vectors/manifest.json.
 *
 * The codecs are imported for the test only; wire-spec itself depends on none.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FamilyCodec, MemorySink, StreamReader } from "@vmstream/framing";
import * as legacy from "@vmstream/legacy";
import * as libxl from "@vmstream/libxl";
import * as vmstate from "@vmstream/vmstate";
import { describe, expect, test } from "vitest";
import { families } from "../src/index.js";

const VECTORS = fileURLToPath(new URL("../vectors", import.meta.url));

interface Entry {
  family: string;
  version: string;
  name: string;
  source: string;
  frozen: string | null;
  bin: string | null;
  json: string | null;
}

const manifest = JSON.parse(readFileSync(join(VECTORS, "manifest.json"), "utf8")) as { vectors: Entry[] };
const sha256 = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

const CODECS: Record<string, FamilyCodec | undefined> = {
  context: libxl.contextCodec,
  libxc: (libxl as Record<string, unknown>).libxcCodec as FamilyCodec | undefined,
  libxl: (libxl as Record<string, unknown>).libxlCodec as FamilyCodec | undefined,
  xl: (libxl as Record<string, unknown>).xlCodec as FamilyCodec | undefined,
  legacy: (legacy as Record<string, unknown>).legacyCodec as FamilyCodec | undefined,
  qemu: (vmstate as Record<string, unknown>).qemuCodec as FamilyCodec | undefined,
};

/** Every NAME.bin on disk, as family/version/name. */
function onDisk(): Array<{ family: string; version: string; name: string }> {
  const out: Array<{ family: string; version: string; name: string }> = [];
  for (const family of readdirSync(VECTORS)) {
    const fdir = join(VECTORS, family);
    if (!statSync(fdir).isDirectory()) continue;
    for (const version of readdirSync(fdir)) {
      const vdir = join(fdir, version);
      if (!statSync(vdir).isDirectory()) continue;
      for (const f of readdirSync(vdir)) if (f.endsWith(".bin")) out.push({ family, version, name: f.slice(0, -4) });
    }
  }
  return out.sort((a, b) => `${a.family}/${a.version}/${a.name}`.localeCompare(`${b.family}/${b.version}/${b.name}`));
}

const vectors = onDisk();
const path = (v: { family: string; version: string; name: string }, ext: string) => join(VECTORS, v.family, v.version, `${v.name}.${ext}`);

describe("golden vectors: the manifest", () => {
  test("every vector on disk is in the manifest, with its JSON beside it", () => {
    for (const v of vectors) {
      expect(existsSync(path(v, "json")), `${v.family}/${v.version}/${v.name}.json is missing`).toBe(true);
      expect(manifest.vectors.some((m) => m.family === v.family && m.version === v.version && m.name === v.name), `${v.family}/${v.version}/${v.name} is not in manifest.json (node compat/bin/vector.mjs add)`).toBe(true);
    }
  });

  test("every vector is of a family and version the spec defines", () => {
    for (const v of vectors) {
      const f = families.find((x) => x.name === v.family);
      expect(f, `vectors/${v.family}: no such family`).toBeDefined();
      expect(f!.versions.map((x) => x.version), `vectors/${v.family}/${v.version}: no such version`).toContain(v.version);
    }
  });

  test.each(manifest.vectors.filter((m) => m.frozen))("frozen $family/$version/$name (released in $frozen) is unchanged", (m) => {
    expect(existsSync(path(m, "bin")), "a released vector may not be deleted").toBe(true);
    expect(sha256(path(m, "bin")), `${m.family}/${m.version}/${m.name}.bin changed after release`).toBe(m.bin);
    expect(sha256(path(m, "json")), `${m.family}/${m.version}/${m.name}.json changed after release`).toBe(m.json);
  });
});

async function decode(c: FamilyCodec, bytes: Uint8Array, version: string): Promise<unknown> {
  let text = "";
  for await (const piece of c.decode(StreamReader.of(bytes), version, {})) text += piece;
  return JSON.parse(text);
}

describe("golden vectors: today's codecs read every released vector identically", () => {
  test.each(vectors.map((v) => ({ ...v, id: `${v.family}/${v.version}/${v.name}` })))("$id", async (v) => {
    const c = CODECS[v.family];
    expect(c, `no codec for ${v.family}`).toBeDefined();
    const bytes = new Uint8Array(readFileSync(path(v, "bin")));
    const doc = JSON.parse(readFileSync(path(v, "json"), "utf8")) as unknown;
    expect(c!.detect(bytes.subarray(0, 4096)), "detected version").toBe(v.version);
    expect(await decode(c!, bytes, v.version)).toEqual(doc);
    const enc = new MemorySink();
    await c!.encode(doc, enc, {});
    expect(Buffer.from(enc.bytes()).equals(Buffer.from(bytes)), "encode(json) gives the vector's bytes").toBe(true);
    const rec = new MemorySink();
    await c!.recode(StreamReader.of(bytes), v.version, rec, {});
    expect(Buffer.from(rec.bytes()).equals(Buffer.from(bytes)), "recode gives the vector's bytes").toBe(true);
  });
});

/** Vectors that are the same content at two versions: converting one gives the other, both ways. */
const SAME_CONTENT: Array<[string, string]> = [
  ["context/1/ctx1-small", "context/2/ctx2-le"],
  ["qemu/3/microvm-stopped", "qemu/4/microvm-stopped"],
];

describe("golden vectors: conversions between versions give the other vector exactly", () => {
  test.each(SAME_CONTENT.flatMap(([a, b]) => [[a, b], [b, a]]))("%s → %s", async (src, dst) => {
    const [family, from] = src.split("/") as [string, string];
    const to = dst.split("/")[1]!;
    const c = CODECS[family]!;
    const out = new MemorySink();
    await c.convert!(StreamReader.of(new Uint8Array(readFileSync(join(VECTORS, `${src}.bin`)))), from, { family, version: to }, out, {});
    expect(Buffer.from(out.bytes()).equals(readFileSync(join(VECTORS, `${dst}.bin`)))).toBe(true);
  });
});
