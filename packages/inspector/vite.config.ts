import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Plugin, defaultClientConditions, defineConfig } from "vite";

const MATRIX = fileURLToPath(new URL("../../compat/out/matrix.json", import.meta.url));

/**
 * `virtual:bundled-matrix`: the compat matrix found at build time
 * (compat/out/matrix.json), or null. The page validates it like a file the user opens.
 */
function bundledMatrix(): Plugin {
  const id = "virtual:bundled-matrix";
  return {
    name: "vmstream-bundled-matrix",
    resolveId: (s) => (s === id ? `\0${id}` : undefined),
    load(s) {
      if (s !== `\0${id}`) return undefined;
      if (!existsSync(MATRIX)) return "export default null;";
      this.addWatchFile(MATRIX);
      return `export default ${JSON.stringify(readFileSync(MATRIX, "utf8"))};`;
    },
  };
}

/**
 * Chromium refuses module scripts and stylesheets with `crossorigin` from
 * file:// pages, so the built page carries its script and CSS inline (the
 * worker is already inlined as a blob by `?worker&inline`): dist/index.html
 * then works opened straight from disk, with no server and no network.
 */
function singleFile(): Plugin {
  return {
    name: "vmstream-single-file",
    apply: "build",
    enforce: "post",
    generateBundle(_opts, bundle) {
      const html = Object.values(bundle).find((b) => b.type === "asset" && b.fileName === "index.html");
      if (!html || html.type !== "asset") return;
      let text = String(html.source);
      for (const [name, b] of Object.entries(bundle)) {
        if (b.type === "chunk" && b.isEntry) {
          const re = new RegExp(`<script type="module"[^>]*src="[^"]*${escapeRe(name)}"[^>]*></script>`);
          // `</script` inside the code would end the element early; `<\/` means the same in JS strings and regexes.
          const code = b.code.replaceAll("</script", "<\\/script");
          text = text.replace(re, () => `<script type="module">${code}</script>`);
          delete bundle[name];
        } else if (b.type === "asset" && name.endsWith(".css")) {
          const re = new RegExp(`<link rel="stylesheet"[^>]*href="[^"]*${escapeRe(name)}"[^>]*>`);
          text = text.replace(re, () => `<style>${String(b.source)}</style>`);
          delete bundle[name];
        }
      }
      html.source = text;
    },
  };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export default defineConfig({
  base: "./",
  // Build from the workspace packages' TypeScript sources, like the tests do.
  resolve: { conditions: ["@vmstream/source", ...defaultClientConditions] },
  // A classic (iife) worker: Chromium will not start a module worker from a blob made by a file:// page.
  worker: { format: "iife" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 100_000_000,
    modulePreload: false,
    reportCompressedSize: false,
  },
  plugins: [bundledMatrix(), singleFile()],
});
