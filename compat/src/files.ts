/**
 * Where the matrix lives on disk: `compat/MATRIX.md` (committed; CI fails when
 * stale), `compat/out/matrix.json` and `compat/out/matrix.html` (generated,
 * gitignored), and the one list of known incompatibilities.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type KnownIncompatibility, type Matrix, type RenderOptions, renderHtml, renderJson, renderMarkdown } from "@vmstream/testing";

/** The compat workspace directory (works from src/ under vitest and from dist/ after a build). */
export const COMPAT_DIR = join(dirname(fileURLToPath(import.meta.url)), "..");
export const MATRIX_MD = join(COMPAT_DIR, "MATRIX.md");
export const OUT_DIR = join(COMPAT_DIR, "out");
export const KNOWN_FILE = join(COMPAT_DIR, "known-incompatibilities.json");

export const RENDER: RenderOptions = {
  title: "vmstream compatibility matrix",
  regenerate: "Regenerate with `npm run compat` (or `npx vmstream matrix` in a checkout) at the default seed; CI fails when this file is stale.",
};

export function readKnown(path = KNOWN_FILE): KnownIncompatibility[] {
  const v = JSON.parse(readFileSync(path, "utf8")) as { incompatibilities?: unknown };
  if (!Array.isArray(v.incompatibilities)) throw new Error(`${path}: expected {"incompatibilities": [...]}`);
  return v.incompatibilities.map((x, i) => {
    const k = x as Record<string, unknown>;
    for (const f of ["family", "from", "to", "property", "reason"]) {
      if (typeof k[f] !== "string" || k[f] === "") throw new Error(`${path}: incompatibilities[${i}].${f}: expected a non-empty string`);
    }
    return { family: k.family, from: k.from, to: k.to, property: k.property, reason: k.reason } as KnownIncompatibility;
  });
}

export interface WrittenFiles {
  markdown: string;
  json: string;
  html: string;
}

/** Write all three renderings; MATRIX.md only when asked (it is committed). */
export function writeMatrix(m: Matrix, opts: { markdown?: string | null; json?: string; html?: string } = {}, markdown: string = renderMarkdown(m, RENDER)): WrittenFiles {
  const files = {
    markdown: opts.markdown === undefined ? MATRIX_MD : (opts.markdown ?? ""),
    json: opts.json ?? join(OUT_DIR, "matrix.json"),
    html: opts.html ?? join(OUT_DIR, "matrix.html"),
  };
  for (const [path, text] of [
    [files.json, renderJson(m)],
    [files.html, renderHtml(m, RENDER)],
    [files.markdown, markdown],
  ] as const) {
    if (!path) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  return files;
}
