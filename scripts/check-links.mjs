// Every relative link in every tracked Markdown file resolves: `[text](path)`
// and `[text](path#anchor)` name a file or folder in the checkout, and an
// anchor into a Markdown file names one of its headings. External links
// (http, https, mailto) are not fetched. Run by `npm run lint` (so by
// `npm test`); `node scripts/check-links.mjs` alone prints the broken ones.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
export function anchors(markdown) {
  const out = new Set();
  const seen = new Map();
  for (const m of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = m[1]
      .replace(/`/g, "")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  for (const m of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

/** Relative link targets of a Markdown text (outside code blocks and inline code). */
export function links(markdown) {
  const text = markdown.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "``");
  const out = [];
  for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push(m[1]);
  for (const m of text.matchAll(/^\[[^\]]+\]:\s*(\S+)/gm)) out.push(m[1]);
  return out.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

export function brokenLinks(root = ROOT) {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.md"], { cwd: root, encoding: "utf8" })
    .split("\0")
    .filter((f) => f && existsSync(join(root, f)) && !f.includes("node_modules/"));
  const broken = [];
  for (const file of files) {
    const text = readFileSync(join(root, file), "utf8");
    for (const target of links(text)) {
      const [path, anchor] = target.split("#", 2);
      const resolved = path ? normalize(join(dirname(file), decodeURI(path))) : file;
      const abs = join(root, resolved);
      if (resolved.startsWith("..") || !existsSync(abs)) {
        broken.push(`${file}: link ${target}: ${resolved} does not exist in the repository`);
        continue;
      }
      if (anchor && abs.endsWith(".md") && statSync(abs).isFile() && !anchors(readFileSync(abs, "utf8")).has(anchor)) {
        broken.push(`${file}: link ${target}: no heading #${anchor} in ${resolved}`);
      }
    }
  }
  return broken;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const broken = brokenLinks();
  for (const b of broken) console.log(b);
  console.log(broken.length ? `links: ${broken.length} broken` : "links: every relative link resolves");
  process.exitCode = broken.length ? 1 : 0;
}
