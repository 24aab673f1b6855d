import type { DeviceDiff, FieldDiff } from "./devices.js";

/** A value as analyze prints it, cut to one readable line. */
const show = (x: unknown): string => {
  const s = typeof x === "string" ? x : JSON.stringify(x);
  return s.length > 72 ? `${s.slice(0, 60)}… (${s.length} chars)` : s;
};

/** One line per finding, as `vmstream diff` prints them. */
export function formatFieldDiff(f: FieldDiff): string {
  const where = `${f.section} ${f.instance}: ${f.path || "(section)"}`;
  switch (f.reason) {
    case "value differs":
      return `${where}: ${show(f.a)} → ${show(f.b)}`;
    case "only in A":
      return `${where}: only in A (= ${show(f.a)}); B's description has no such field`;
    case "only in B":
      return `${where}: only in B (= ${show(f.b)}); A's description has no such field`;
    case "renamed":
      return `${where}: renamed to ${f.renamedTo} in B (same position and shape${show(f.a) === show(f.b) ? ", same value" : ""})`;
    case "array length differs":
      return `${where}: ${f.a} elements in A, ${f.b} in B`;
    case "described differently":
      return `${where}: the streams' descriptions differ (A: ${f.a}, B: ${f.b}); comparing the first element`;
  }
}

export function formatDeviceDiff(d: DeviceDiff): string[] {
  const out: string[] = [];
  for (const s of d.onlyA) out.push(`section ${s.section} ${s.instance}: only in A (version ${s.version})`);
  for (const s of d.onlyB) out.push(`section ${s.section} ${s.instance}: only in B (version ${s.version})`);
  for (const v of d.versions) out.push(`section ${v.section} ${v.instance}: version ${v.a} in A, ${v.b} in B`);
  for (const f of d.fields) out.push(formatFieldDiff(f));
  return out;
}
