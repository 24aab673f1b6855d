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
 * The bundle is CommonJS (`format: "cjs"`), started by a CommonJS bin: Node
 * then never starts its ES module loader, which resolves and links each
 * module asynchronously (a thread-pool read and a tick per chunk) and, for an
 * `import … from "node:fs"`, builds a facade of all of fs's exports that reads
 * every lazy getter and so loads about twenty stream modules no verdict needs.
 * Measured (perf stat -r 30, against the same code as ES modules): `verify`
 * of a 1 KiB stream 153 → 137 ms, `verify` of the 513 MiB libxc stream
 * 187 → 166 ms, `convert` of a 12 KiB legacy stream 172 → 146 ms; `node -e 0`
 * took 116 ms. The folder gets a package.json saying so, because the
 * package itself is `"type": "module"` and the chunks keep their .js names
 * (framing finds its reader thread's script as ./stdin-worker.js).
 */
const commonjsFolder = {
  name: "vmstream:commonjs-folder",
  generateBundle() {
    this.emitFile({ type: "asset", fileName: "package.json", source: `${JSON.stringify({ type: "commonjs" })}\n` });
  },
};

export default {
  plugins: [commonjsFolder],
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
    format: "cjs",
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
