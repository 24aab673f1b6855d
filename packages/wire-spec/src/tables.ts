import { containerLayouts } from "./containers.js";
import { family as familyOf, versionOf } from "./index.js";
import type { FieldSpec, LayoutSpec, RecordSpec } from "./types.js";
import { QEMU_FIXTURE_RELEASES, QEMU_MAPPED_RAM_HEADER, QEMU_WIRE_FEATURES } from "./families/qemu.js";

/**
 * Markdown tables rendered from the spec data. The prose in docs/spec embeds
 * them between `<!-- spec:KIND ARG -->` and `<!-- /spec -->` markers; a test
 * fails when the prose and the data disagree, and `npm run spec-tables`
 * rewrites the blocks.
 */

const hexv = (v: number | bigint, w: number) => `0x${v.toString(16).toUpperCase().padStart(w, "0")}`;

function fieldValue(f: FieldSpec): string {
  const parts: string[] = [];
  if (f.value !== undefined) {
    parts.push(typeof f.value === "string" ? JSON.stringify(f.value) : hexv(f.value, (f.size ?? scalarSize(f)) * 2));
  }
  if (f.reserved) parts.push("reserved, zero");
  if (f.bits) parts.push(Object.entries(f.bits).map(([b, m]) => `bit ${b}: ${m}`).join("; ") + "; other bits reserved, zero");
  if (f.values) parts.push(Object.entries(f.values).map(([k, m]) => `${k} = ${m}`).join(", "));
  if (f.note) parts.push(f.note);
  return parts.join("; ");
}

function scalarSize(f: FieldSpec): number {
  const m = /(\d+)$/.exec(f.type);
  return m ? Number(m[1]) / 8 : (f.size ?? 0);
}

export function renderLayout(l: LayoutSpec): string {
  const rows = l.fields.map((f) => {
    const size = f.type === "bytes" || f.type === "cstring" ? (f.size ?? "rest") : scalarSize(f);
    const order = f.order ? ` ${f.order === "stream" ? "(stream order)" : f.order.toUpperCase()}` : "";
    return `| ${f.offset} | ${size} | ${f.name} | ${f.type}${order} | ${fieldValue(f)} |`;
  });
  return ["| offset | size | field | type | value / meaning |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}

function lengthRule(r: RecordSpec): string {
  const l = r.length;
  if (!l) return r.body === "empty" ? "0" : "any";
  const parts: string[] = [];
  if (l.exact !== undefined) parts.push(`exactly ${l.exact}`);
  if (l.min !== undefined) parts.push(`≥ ${l.min}`);
  if (l.max !== undefined) parts.push(`≤ ${l.max}`);
  if (l.multipleOf !== undefined) parts.push(`multiple of ${l.multipleOf}`);
  if (l.rule) parts.push(l.rule);
  return parts.join(", ");
}

export function renderRecords(records: RecordSpec[], codeWidth = 2): string {
  const rows = records.map(
    (r) =>
      `| ${hexv(r.code, codeWidth)} | ${r.name} | ${r.mandatory ? "mandatory" : "optional"} | ${lengthRule(r)} | ${r.since ?? ""} | ${r.note ?? ""} |`,
  );
  return ["| code | name | kind | body length | since | note |", "| --- | --- | --- | --- | --- | --- |", ...rows].join("\n");
}

export function renderVersions(familyName: string): string {
  const f = familyOf(familyName);
  const rows = f.versions.map((v) => `| ${v.version} | ${v.status} | ${v.align ? `${v.align} bytes` : "none"} | ${v.changes} |`);
  return ["| version | status | record alignment | what changed and why |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** Which QEMU release writes what: QEMU_WIRE_FEATURES as a table. */
export function renderQemuReleases(): string {
  const rows = QEMU_WIRE_FEATURES.map((f) => {
    const code = f.code === undefined ? "" : f.kind === "command" ? String(f.code) : hexv(f.code, f.kind === "RAM flag" ? 3 : 2);
    const seen = QEMU_FIXTURE_RELEASES.map((r) => (f.fixtures.includes(r) ? "✓" : "·")).join(" ");
    return `| ${f.kind} | ${f.name} | ${code} | ${f.since} | ${f.until ?? ""} | ${f.when} | ${seen} |`;
  });
  return [
    `| kind | name | code | first written by | last | written when | in fixtures (${QEMU_FIXTURE_RELEASES.join(" ")}) |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** Render one marker's block: `container NAME` (containers.ts), `layout family@v N` (Nth header), `descriptor family@v`, `records family@v`, `versions family`. */
export function renderBlock(kind: string, arg: string): string {
  if (kind === "versions") return renderVersions(arg);
  if (kind === "releases" && arg === "qemu") return renderQemuReleases();
  if (kind === "layout" && arg === "qemu mapped-ram") return renderLayout(QEMU_MAPPED_RAM_HEADER);
  if (kind === "container") {
    const l = Object.hasOwn(containerLayouts, arg) ? containerLayouts[arg] : undefined;
    if (!l) throw new Error(`${arg}: no container layout`);
    return renderLayout(l);
  }
  const [fam, ver, idx] = arg.split(/[@ ]/);
  const v = versionOf(fam!, ver!);
  switch (kind) {
    case "layout": {
      const l = v.headers[Number(idx ?? 0)];
      if (!l) throw new Error(`${arg}: no header ${idx}`);
      return renderLayout(l);
    }
    case "descriptor":
      if (!v.recordHeader) throw new Error(`${arg}: no record header`);
      return renderLayout(v.recordHeader);
    case "records":
      return renderRecords(v.records, fam === "qemu" ? 2 : fam === "context" ? 4 : 2);
    default:
      throw new Error(`unknown spec block kind ${kind}`);
  }
}

const BLOCK = /<!-- spec:(\w+) ([^>]*?) -->\n([\s\S]*?)<!-- \/spec -->/g;

/** Re-render every marked block of a Markdown document. */
export function renderSpecBlocks(markdown: string): string {
  return markdown.replace(BLOCK, (_m, kind: string, arg: string) => `<!-- spec:${kind} ${arg} -->\n${renderBlock(kind, arg)}\n<!-- /spec -->`);
}
