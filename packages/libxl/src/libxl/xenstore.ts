import { MalformedError, safeObject } from "@vmstream/framing";

/**
 * EMULATOR_XENSTORE_DATA payload: `key\0value\0…`. Strings are kept as
 * latin1 so every byte other than NUL survives a round trip.
 */
export function parseXenstore(b: Uint8Array, base: number, path: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (b.byteLength === 0) return out;
  if (b[b.byteLength - 1] !== 0) throw new MalformedError("xenstore data is not NUL terminated", base + b.byteLength - 1, { path });
  let start = 0;
  let key: string | null = null;
  for (let i = 0; i < b.byteLength; i++) {
    if (b[i] !== 0) continue;
    const s = latin1(b, start, i);
    if (key === null) {
      if (s.length === 0) throw new MalformedError("empty xenstore key", base + start, { path });
      if (!KEY.test(s)) {
        throw new MalformedError(`xenstore key ${JSON.stringify(s)} has characters outside the protocol's alphanumerics and -/_@`, base + start, { path });
      }
      key = s;
    } else {
      out.push([key, s]);
      key = null;
    }
    start = i + 1;
  }
  if (key !== null) throw new MalformedError(`xenstore key ${JSON.stringify(key)} has no value (odd number of strings)`, base + b.byteLength, { path });
  return out;
}

/** The xenstore protocol's path characters; xenstored refuses a write to any other key. */
const KEY = /^[A-Za-z0-9\-/_@]+$/;

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i]!);
  return s;
}

export function xenstoreBytes(entries: ReadonlyArray<readonly [string, string]>): Uint8Array {
  let n = 0;
  for (const [k, v] of entries) n += k.length + v.length + 2;
  const out = new Uint8Array(n);
  let o = 0;
  for (const [k, v] of entries) {
    for (const s of [k, v]) {
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === 0 || c > 0xff) throw new MalformedError(`xenstore string ${JSON.stringify(s)}: characters must be 0x01–0xff`, 0);
        out[o++] = c;
      }
      out[o++] = 0;
    }
  }
  if (entries.some(([k]) => k.length === 0)) throw new MalformedError("empty xenstore key", 0);
  return out;
}

const INDEX_LIKE = /^(0|[1-9][0-9]*)$/;

/**
 * JSON form: an object (built with safeObject, so a key like `__proto__` stays
 * data) when it can hold the pairs exactly — unique keys, none that JavaScript
 * would reorder — else an ordered list of pairs.
 */
export function xenstoreJson(entries: Array<[string, string]>): { xenstore: Record<string, string> } | { xenstore_entries: Array<[string, string]> } {
  const o = safeObject<string>();
  for (const [k, v] of entries) {
    if (k in o || INDEX_LIKE.test(k)) return { xenstore_entries: entries };
    o[k] = v;
  }
  return { xenstore: o };
}

export function xenstoreFromJson(rec: Record<string, unknown>, where: string): Array<[string, string]> {
  if (rec.xenstore_entries !== undefined) {
    if (!Array.isArray(rec.xenstore_entries)) throw new MalformedError(`${where}.xenstore_entries: expected an array of [key, value]`, 0);
    return rec.xenstore_entries.map((p, i) => {
      if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== "string" || typeof p[1] !== "string") {
        throw new MalformedError(`${where}.xenstore_entries[${i}]: expected [key, value] strings`, 0);
      }
      return [p[0], p[1]];
    });
  }
  const o = rec.xenstore ?? {};
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new MalformedError(`${where}.xenstore: expected an object`, 0);
  return Object.keys(o).map((k) => {
    const v = (o as Record<string, unknown>)[k];
    if (typeof v !== "string") throw new MalformedError(`${where}.xenstore[${JSON.stringify(k)}]: expected a string`, 0);
    return [k, v];
  });
}
