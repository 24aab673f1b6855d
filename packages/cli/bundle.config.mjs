/**
 * The `vmstream` command as one pre-bundled program (rolldown, vite 8's
 * bundler), run by `npm run build` after tsc: dist/bundle/vmstream.js holds the
 * entry point, and every lazily imported module (each command, each codec
 * family, help) stays a chunk of its own beside it, so a run still loads only
 * what its command and the detected codec need — minus the resolution of
 * ~80 module files through node_modules and package exports, which was most of
 * the start-up (docs/performance.md). Everything lands in one flat folder
 * because framing finds its reader thread's script next to itself
 * (`new URL("./stdin-worker.js", import.meta.url)`).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const pkg = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
/** The reader thread's script, found where @vmstream/node (which starts it) lives. */
const worker = fileURLToPath(new URL("./stdin-worker.js", import.meta.resolve("@vmstream/node")));
if (!existsSync(worker)) throw new Error(`bundle: ${worker} is missing (build @vmstream/node first)`);

/**
 * Node's own modules are taken with require(), not import: an `import … from
 * "node:fs"` makes Node build an ES module facade of all of fs's exports,
 * which reads every lazy getter and so loads the stream modules (about twenty
 * of Node's internal modules for fs and util alone) that no command here
 * uses on its way to a verdict. require() hands back the module Node loaded
 * at start-up. Named imports become a destructuring of the same names; the
 * values never change, so nothing is lost by not being a live binding.
 */
const builtinsByRequire = {
  name: "vmstream:builtins-by-require",
  renderChunk(code) {
    let found = false;
    const out = code.replace(/^import \{([^}]*)\} from "(node:[^"]+)";$/gm, (_all, names, id) => {
      found = true;
      const fields = names
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => s.replace(/^(\S+) as (\S+)$/, "$1: $2"));
      return `const { ${fields.join(", ")} } = __vmstreamRequire(${JSON.stringify(id)});`;
    });
    if (!found) return null;
    return `import { createRequire as __vmstreamCreateRequire } from "node:module";\nconst __vmstreamRequire = __vmstreamCreateRequire(import.meta.url);\n${out}`;
  },
};

export default {
  plugins: [builtinsByRequire],
  input: {
    vmstream: "./dist/main.js",
    "stdin-worker": worker,
  },
  platform: "node",
  // The entry's exports are main() alone; chunks may import from it (errors, stdout), which is what this allows.
  preserveEntrySignatures: "allow-extension",
  // Node's own modules and the one third-party dependency (CommonJS, loaded only with --progress) stay outside.
  external: [/^node:/, ...Object.keys(pkg.dependencies).filter((d) => !d.startsWith("@vmstream/"))],
  transform: { define: { __VMSTREAM_VERSION__: JSON.stringify(pkg.version) } },
  output: {
    dir: "./dist/bundle",
    cleanDir: true,
    format: "esm",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    codeSplitting: {
      // A group takes the modules its test names, not everything they import (the codec groups would swallow the core).
      includeDependenciesRecursively: false,
      groups: [
        // What every stream command needs, as one file: framing, the Node layer, the spec tables, detection, the
        // streamed-document reader and the recode pass-through every Xen family shares (in one family's chunk, the
        // others would load that one),
        // the CLI's input/output/report code.
        // Not the commands: one of them importing a codec package statically would make core import a codec
        // chunk that imports core — a cycle, whose modules then run before their imports are initialised.
        // (Not the reader thread's script and its ring, which the thread loads alone.)
        { name: "core", test: /[\\/](framing|node)[\\/]dist[\\/](?!stdin-worker|pipe-ring)|[\\/](wire-spec|codecs)[\\/]dist[\\/](?!all)|[\\/]libxl[\\/]dist[\\/](?:doc-stream|pass-through)|[\\/]cli[\\/]dist[\\/](?!main|help|stdout|errors|positional-file|commands[\\/])/, priority: 1 },
        // One chunk per codec package, loaded once detection picked it.
        { name: "qemu", test: /[\\/]vmstate[\\/]dist[\\/]/ },
        { name: "xen", test: /[\\/]libxl[\\/]dist[\\/]/ },
        { name: "context", test: /[\\/]libxl[\\/]dist[\\/]context[\\/]/, priority: 2 },
        { name: "legacy", test: /[\\/]legacy[\\/]dist[\\/]/ },
        // qcow2 and libvirt save images, loaded when an input is one.
        { name: "containers", test: /[\\/]containers[\\/]dist[\\/]/ },
      ],
    },
  },
};
