#!/usr/bin/env node
// Golden vectors in packages/wire-spec/vectors/<family>/<version>/NAME.bin + NAME.json.
// Run after `npm run build` (it decodes with the built codecs).
//
//   node compat/bin/vector.mjs add FAMILY VERSION NAME FILE --source "where the bytes come from"
//       copies FILE to NAME.bin and writes NAME.json, the `vmstream decode` document;
//       the vector is listed in the manifest as not yet frozen.
//   node compat/bin/vector.mjs freeze VERSION
//       freezes every unfrozen vector: records the sha256 of both files and the
//       wire-spec release that ships them. A frozen vector never changes again
//       (packages/wire-spec/src/vectors.test.ts fails if it does).
//
// Bytes must come from a real tool or an independent encoder (never from our
// own encoder); the JSON is what the codec decodes at the time the vector is
// added, reviewed by a person, then frozen.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const VECTORS = join(ROOT, "packages", "wire-spec", "vectors");
const MANIFEST = join(VECTORS, "manifest.json");

const { positionals, values } = parseArgs({ allowPositionals: true, options: { source: { type: "string" } } });
const [cmd, ...args] = positionals;
const sha256 = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const readManifest = () => JSON.parse(readFileSync(MANIFEST, "utf8"));
const writeManifest = (m) => writeFileSync(MANIFEST, `${JSON.stringify(m, null, 2)}\n`);

/** Each family's codec, from the packages compat depends on (not through the CLI). */
const CODECS = {
  context: ["@vmstream/libxl", "contextCodec"],
  libxc: ["@vmstream/libxl", "libxcCodec"],
  libxl: ["@vmstream/libxl", "libxlCodec"],
  xl: ["@vmstream/libxl", "xlCodec"],
  legacy: ["@vmstream/legacy", "legacyCodec"],
  qemu: ["@vmstream/vmstate", "qemuCodec"],
};

async function codecFor(family) {
  const where = CODECS[family];
  const c = where ? (await import(where[0]))[where[1]] : undefined;
  if (!c) throw new Error(`no codec for ${family} in this build`);
  return c;
}

if (cmd === "add") {
  const [family, version, name, file] = args;
  if (!file || !values.source) {
    console.error('usage: vector.mjs add FAMILY VERSION NAME FILE --source "origin of the bytes"');
    process.exit(2);
  }
  const { StreamReader } = await import("@vmstream/framing");
  const codec = await codecFor(family);
  const dir = join(VECTORS, family, version);
  mkdirSync(dir, { recursive: true });
  const bin = join(dir, `${name}.bin`);
  copyFileSync(file, bin);
  let text = "";
  for await (const piece of codec.decode(StreamReader.of(readFileSync(bin)), version, {})) text += piece;
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
  const m = readManifest();
  m.vectors = m.vectors.filter((v) => !(v.family === family && v.version === version && v.name === name && !v.frozen));
  if (m.vectors.some((v) => v.family === family && v.version === version && v.name === name)) {
    console.error(`${family}/${version}/${name} is frozen; add a vector under a new name instead`);
    process.exit(1);
  }
  m.vectors.push({ family, version, name, source: values.source, frozen: null, bin: null, json: null });
  writeManifest(m);
  console.log(`added ${family}/${version}/${name}.bin and .json (not frozen yet)`);
} else if (cmd === "freeze") {
  const [release] = args;
  if (!release) {
    console.error("usage: vector.mjs freeze WIRE_SPEC_VERSION");
    process.exit(2);
  }
  const m = readManifest();
  for (const v of m.vectors) {
    if (v.frozen) continue;
    const base = join(VECTORS, v.family, v.version, v.name);
    v.bin = sha256(`${base}.bin`);
    v.json = sha256(`${base}.json`);
    v.frozen = release;
    console.log(`froze ${v.family}/${v.version}/${v.name} in ${release}`);
  }
  writeManifest(m);
} else {
  console.error("usage: vector.mjs add FAMILY VERSION NAME FILE --source TEXT | vector.mjs freeze VERSION");
  process.exit(2);
}
