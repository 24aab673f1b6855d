/**
 * Items of a codec's JSON that sit somewhere in the stream: any object with a
 * numeric `offset` (or `start`), with a `length`/`size` when it says. Codecs
 * of different families shape their JSON differently; this is what they share,
 * and what lets the page jump from a record or section to its bytes.
 */
export interface Located {
  path: string[];
  offset: number;
  length: number | undefined;
  label: string;
}

const OFFSET_KEYS = ["offset", "start", "file_offset"];
const LENGTH_KEYS = ["length", "size", "len", "bytes", "total_size"];
const NAME_KEYS = ["name", "idstr", "section", "record", "type_name", "kind", "type", "id"];

/** Numbers may arrive as decimal strings (64-bit values in the lossless JSON). */
export function asNumber(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string" && /^(0|[1-9][0-9]{0,15})$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function offsetOf(v: unknown): { offset: number; length: number | undefined } | undefined {
  if (!isObject(v)) return undefined;
  for (const k of OFFSET_KEYS) {
    const o = asNumber(v[k]);
    if (o === undefined) continue;
    let length: number | undefined;
    for (const l of LENGTH_KEYS) {
      length = asNumber(v[l]);
      if (length !== undefined) break;
    }
    return { offset: o, length };
  }
  return undefined;
}

/** A one-line name for an object: its name/idstr/type and instance, whatever the family calls them. */
export function labelOf(v: unknown): string {
  if (!isObject(v)) return "";
  // A wrapper with one object inside (libxl's `{"libxc": {...}}` records): name it by its content.
  const keys = Object.keys(v);
  if (keys.length === 1 && isObject(v[keys[0]!])) {
    const inner = labelOf(v[keys[0]!]);
    return inner ? `${keys[0]} ${inner}` : "";
  }
  const parts: string[] = [];
  for (const k of NAME_KEYS) {
    const x = v[k];
    if (typeof x === "string" || typeof x === "number") {
      parts.push(String(x));
      break;
    }
  }
  for (const k of ["instance", "instance_id"]) {
    const x = v[k];
    if (typeof x === "number" || typeof x === "string") {
      parts.push(`#${x}`);
      break;
    }
  }
  for (const k of ["version", "version_id"]) {
    const x = v[k];
    if (typeof x === "number" || typeof x === "string") {
      parts.push(`v${x}`);
      break;
    }
  }
  return parts.join(" ");
}

/** Walk the JSON (bounded) and list everything that has an offset. */
export function locateAll(root: unknown, max = 200_000): Located[] {
  const out: Located[] = [];
  const walk = (v: unknown, path: string[], depth: number) => {
    if (out.length >= max || depth > 64 || typeof v !== "object" || v === null) return;
    const at = offsetOf(v);
    if (at) out.push({ path, ...at, label: labelOf(v) || path[path.length - 1] || "" });
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)], depth + 1));
    // A codec's own `fault` object has an offset too, but it is where things broke, not a part of the stream.
    else for (const k of Object.keys(v)) if (k !== "fault") walk((v as Record<string, unknown>)[k], [...path, k], depth + 1);
  };
  walk(root, [], 0);
  // An item without a length (legacy chunks, END records) runs to its next sibling in the same list.
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i]!;
    const b = out[i + 1]!;
    const sameList = a.path.length === b.path.length && a.path.slice(0, -1).join("\u0000") === b.path.slice(0, -1).join("\u0000");
    if (a.length === undefined && sameList && b.offset > a.offset) a.length = b.offset - a.offset;
  }
  return out;
}

/**
 * The innermost located item that holds `offset` (a fault), else the last one
 * that starts before it: the record or section the fault belongs to.
 */
export function holderOf(items: readonly Located[], offset: number): Located | undefined {
  const contains = (it: Located) => it.length !== undefined && offset < it.offset + Math.max(it.length, 1);
  const later = (a: Located, b: Located | undefined) => !b || a.offset > b.offset || (a.offset === b.offset && a.path.length > b.path.length);
  let inside: Located | undefined;
  let before: Located | undefined;
  for (const it of items) {
    if (it.offset > offset) continue;
    if (contains(it)) {
      if (later(it, inside)) inside = it;
    } else if (later(it, before)) before = it;
  }
  return inside ?? before;
}
