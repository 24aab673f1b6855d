import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { families } from "../src/index.js";
import { renderSpecBlocks } from "../src/tables.js";

const root = new URL("../../..", import.meta.url);
const docs = readdirSync(new URL("docs/spec/", root)).filter((n) => n.endsWith(".md"));

describe("docs/spec agrees with the spec data", () => {
  it("every family has its prose document", () => {
    for (const f of families) expect(docs, `${f.doc} is missing`).toContain(f.doc.replace("docs/spec/", ""));
  });

  it.each(docs)("%s: every generated table matches the data (run `npm run spec-tables` to refresh)", (name) => {
    const text = readFileSync(new URL(`docs/spec/${name}`, root), "utf8");
    expect(renderSpecBlocks(text)).toBe(text);
  });
});
