// Rewrite the generated tables in docs/spec/*.md from @vmstream/wire-spec (run after `npm run build`).
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { renderSpecBlocks } from "@vmstream/wire-spec";

for (const n of readdirSync("docs/spec").filter((x) => x.endsWith(".md"))) {
  const p = `docs/spec/${n}`;
  const before = readFileSync(p, "utf8");
  const after = renderSpecBlocks(before);
  if (after !== before) {
    writeFileSync(p, after);
    console.log(`updated ${p}`);
  }
}
