// `npm run new-version -- <family> [--version V] [--root DIR]`: scaffold a new
// version of a format family, so its pair with the current newest version
// shows up in the compat matrix (failing until it is implemented). It adds:
//   1. the spec entry: a copy of the newest VersionSpec in
//      packages/wire-spec/src/families/<family>.ts, renumbered, status
//      "proposed", with TODOs where the layout must change;
//   2. the vector folder packages/wire-spec/vectors/<family>/<V>/ (README);
//   3. a converter stub (upgrade and downgrade that refuse by name) next to the
//      family's codec;
//   4. a changeset naming wire-spec and the codec package.
// The guide: docs/contributing/adding-a-format-version.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** Where each family's codec lives: package name and source folder. */
export const CODEC_HOME = {
  context: { pkg: "@vmstream/libxl", dir: "packages/libxl/src/context", codec: "contextCodec" },
  libxc: { pkg: "@vmstream/libxl", dir: "packages/libxl/src/libxc", codec: "libxcCodec" },
  libxl: { pkg: "@vmstream/libxl", dir: "packages/libxl/src/libxl", codec: "libxlCodec" },
  xl: { pkg: "@vmstream/libxl", dir: "packages/libxl/src/xl", codec: "xlCodec" },
  qemu: { pkg: "@vmstream/vmstate", dir: "packages/vmstate/src/stream", codec: "qemuCodec" },
  legacy: { pkg: "@vmstream/legacy", dir: "packages/legacy/src", codec: "legacyCodec" },
};

/** Index just past the bracket/brace that closes the one opening at `open`, skipping strings and comments. */
export function matchClose(src, open) {
  const pairs = { "{": "}", "[": "]", "(": ")" };
  const stack = [];
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === "\\") i++;
      continue;
    }
    if (c === "/" && src[i + 1] === "/") {
      i = src.indexOf("\n", i);
      if (i < 0) return -1;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      i = src.indexOf("*/", i) + 1;
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === "}" || c === "]" || c === ")") {
      if (stack.pop() !== c) throw new Error(`unbalanced ${c} at ${i}`);
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

/** The top-level elements of the array literal opening at `open`: [start, end) spans. */
export function arrayElements(src, open) {
  const close = matchClose(src, open);
  const out = [];
  let i = open + 1;
  while (i < close - 1) {
    while (i < close - 1 && /[\s,]/.test(src[i])) i++;
    if (src.startsWith("//", i)) {
      i = src.indexOf("\n", i) + 1;
      continue;
    }
    if (i >= close - 1) break;
    if (src[i] !== "{") throw new Error(`versions: expected an object literal at offset ${i}, found ${JSON.stringify(src.slice(i, i + 20))}`);
    const end = matchClose(src, i);
    out.push([i, end]);
    i = end;
  }
  return { close, elements: out };
}

/** Text edits on the family file: returns the new source and the new version. */
export function addVersion(src, family, wanted) {
  const decl = src.search(new RegExp(`export const ${family}\\s*:\\s*FamilySpec\\s*=\\s*\\{`));
  if (decl < 0) throw new Error(`no \`export const ${family}: FamilySpec = {\` in the family file`);
  if (/versioning:\s*"variants"/.test(src.slice(decl))) {
    throw new Error(`${family} is versioned as variants (parallel widths, no adjacent pairs); declare a conversion in its spec instead`);
  }
  const at = src.indexOf("versions:", decl);
  const open = src.indexOf("[", at);
  const { close, elements } = arrayElements(src, open);
  if (elements.length === 0) throw new Error(`${family}: the versions array is empty`);
  const [s, e] = elements[elements.length - 1];
  const last = src.slice(s, e);
  const m = /version:\s*"([^"]+)"/.exec(last);
  if (!m) throw new Error(`${family}: cannot find the newest version's number`);
  const prev = m[1];
  const next = wanted ?? (/^\d+$/.test(prev) ? String(Number(prev) + 1) : null);
  if (!next) throw new Error(`${family}@${prev} is not a number: pass --version`);
  const versions = elements.map(([a, b]) => /version:\s*"([^"]+)"/.exec(src.slice(a, b))?.[1]);
  if (versions.includes(next)) throw new Error(`${family}@${next} already exists`);

  let entry = last.replace(/version:\s*"[^"]+"/, `version: "${next}"`).replace(/status:\s*"[^"]+"/, 'status: "proposed"');
  const todo = `"TODO(new-version): what changed from version ${prev}, and why a new version was needed."`;
  const changes = /changes:\s*(?:"(?:[^"\\]|\\.)*"|`(?:[^`\\]|\\.)*`)(\s*\+\s*(?:"(?:[^"\\]|\\.)*"))*/;
  entry = changes.test(entry) ? entry.replace(changes, `changes:\n        ${todo}`) : entry;
  const indent = /\n([ \t]*)[^\n]*$/.exec(src.slice(0, s))?.[1] ?? "    ";
  const note =
    `${indent}// TODO(new-version): scaffolded from version ${prev} by \`npm run new-version -- ${family}\`.\n` +
    `${indent}// Edit the headers, record header and records of version ${next} so they describe its bytes\n` +
    `${indent}// (see docs/contributing/adding-a-format-version.md), then set its status.\n`;
  const insert = `,\n${note}${indent}${entry}`;
  const out = src.slice(0, e) + insert + src.slice(e);
  void close;
  return { src: out, prev, next };
}

function converterStub(family, prev, next) {
  const cap = family[0].toUpperCase() + family.slice(1);
  return `/**
 * ${family}@${prev} ↔ ${family}@${next}, scaffolded by \`npm run new-version -- ${family}\`.
 *
 * Until these are written and wired into \`${CODEC_HOME[family].codec}\` (its \`versions\`,
 * \`detect\`, \`convert\` and \`convertTargets\`), every compat matrix cell of
 * ${family} ${prev} → ${next} fails, on purpose. See
 * docs/contributing/adding-a-format-version.md.
 */
import { RefusedError, type Sink, type StreamReader } from "@vmstream/framing";

/** Stream a ${family}@${prev} stream out as ${family}@${next}. */
export async function upgrade${cap}${prev}to${next}(_input: StreamReader, _out: Sink): Promise<void> {
  throw new RefusedError("${family}@${prev} → ${family}@${next} is not implemented yet");
}

/** Stream a ${family}@${next} stream out as ${family}@${prev}; refuse (naming the loss) what ${prev} cannot hold. */
export async function downgrade${cap}${next}to${prev}(_input: StreamReader, _out: Sink): Promise<void> {
  throw new RefusedError("${family}@${next} → ${family}@${prev} is not implemented yet");
}
`;
}

function vectorReadme(family, version) {
  return `# ${family}@${version} golden vectors

Put here \`NAME.bin\` files written by a real tool (or an encoder independent of
vmstream) for ${family}@${version}, each with its decoded \`NAME.json\`:

\`\`\`sh
npm run build
node compat/bin/vector.mjs add ${family} ${version} NAME path/to/file.bin --source "tool and command that wrote it"
\`\`\`

Review the JSON by eye. The release that ships ${family}@${version} freezes them
(\`node compat/bin/vector.mjs freeze VERSION\`); after that they never change.
`;
}

export function scaffold(root, family, wanted) {
  const home = CODEC_HOME[family];
  const specFile = join(root, "packages/wire-spec/src/families", `${family}.ts`);
  if (!existsSync(specFile) || !home) throw new Error(`unknown family ${family} (known: ${Object.keys(CODEC_HOME).join(", ")})`);
  const { src, prev, next } = addVersion(readFileSync(specFile, "utf8"), family, wanted);
  const written = [];
  const put = (path, text) => {
    if (existsSync(path)) throw new Error(`${relative(root, path)} already exists`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(relative(root, path));
  };
  put(join(root, "packages/wire-spec/vectors", family, next, "README.md"), vectorReadme(family, next));
  put(join(root, home.dir, `convert-${prev}-${next}.ts`), converterStub(family, prev, next));
  put(
    join(root, ".changeset", `${family}-${next}.md`),
    `---\n"@vmstream/wire-spec": minor\n"${home.pkg}": minor\n---\n\n${family}@${next} (proposed): TODO(new-version): what changed from ${family}@${prev}, for a release manager.\n`,
  );
  writeFileSync(specFile, src);
  written.unshift(relative(root, specFile));
  return { prev, next, written };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { version: { type: "string" }, root: { type: "string" } } });
  const [family] = positionals;
  if (!family) {
    console.error(`usage: npm run new-version -- <family> [--version V]   (families: ${Object.keys(CODEC_HOME).join(", ")})`);
    process.exit(2);
  }
  const root = values.root ?? join(dirname(fileURLToPath(import.meta.url)), "..");
  try {
    const { prev, next, written } = scaffold(root, family, values.version);
    console.log(`${family}@${next} scaffolded after ${family}@${prev}:`);
    for (const w of written) console.log(`  ${w}`);
    console.log(`
The pair ${family} ${prev} → ${next} is now in the compat matrix and fails until it is implemented.
Next (docs/contributing/adding-a-format-version.md):
  1. describe version ${next} in packages/wire-spec/src/families/${family}.ts and docs/spec/${family}.md (npm run spec-tables)
  2. teach the codec and the arbitraries in @vmstream/testing the new version
  3. write the converter in ${CODEC_HOME[family].dir}/convert-${prev}-${next}.ts and wire it into ${CODEC_HOME[family].codec}
  4. extend the compat adapter (compat/src/families/) with the model of ${prev} ↔ ${next}
  5. add golden vectors, fill in the changeset, run npm test and npm run compat, commit MATRIX.md`);
  } catch (e) {
    console.error(`new-version: ${e.message}`);
    process.exit(1);
  }
}
