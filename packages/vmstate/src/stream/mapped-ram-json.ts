/**
 * mapped-ram pieces in the decoded document, inside the RAM section's `ram`
 * array after the MEM_SIZE record (which lists no blocks itself):
 *
 *     {"mappedBlock": {"name": "pc.ram", "length": "16777216", "version": 1, "pageSize": 4096,
 *                      "bitmapOffset": "142", "pagesOffset": "1048576"}, "bitmap": "<base64>"}
 *     {"mappedPages": "pc.ram", "addr": "4194304", "data": "<base64 of whole pages>"}
 *
 * Offsets are the file offsets QEMU chose; encode puts every byte back there.
 */
import { type JsonWriter, MalformedError, fromBase64 } from "@vmstream/framing";
import type { RamBlock, RamRecord } from "./ram.js";

export function mappedJson(w: JsonWriter, r: RamRecord): void {
  if (r.mapped!.kind === "pages") {
    w.raw(`{"mappedPages": ${JSON.stringify(r.block)}, "addr": "${r.addr}", "data": "`).base64(r.data!).raw('"}');
    return;
  }
  const b = r.blocks![0]!;
  const h = b.mapped!;
  w.raw(`{"mappedBlock": {"name": ${JSON.stringify(b.name)}, "length": "${b.length}"`);
  if (b.gpa !== undefined) w.raw(`, "gpa": "${b.gpa}"`);
  w.raw(`, "version": ${h.version}, "pageSize": ${h.pageSize}, "bitmapOffset": "${h.bitmapOffset}", "pagesOffset": "${h.pagesOffset}"}`);
  const bm = r.mapped!.bitmap;
  if (!bm) throw new MalformedError("mapped-ram block record without its bitmap (read with RamState.bitmaps off)", 0);
  w.raw(`, "bitmap": "`).base64(bm).raw('"}');
}

function num(v: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0 || n > max)
    throw new MalformedError(`integer in [0, ${max}] expected`, 0, { path, found: JSON.stringify(v) });
  return n;
}
function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new MalformedError("string expected", 0, { path });
  return v;
}
function b64(v: unknown, path: string): Uint8Array {
  if (typeof v !== "string" && !(v instanceof Uint8Array)) throw new MalformedError("base64 string expected", 0, { path });
  return fromBase64(v, path);
}

/** The pseudo-record a mapped-ram document item describes, or null for any other item. */
export function mappedFromJson(r: Record<string, unknown>, path: string): RamRecord | null {
  const base = { offset: 0, flags: 0, addr: 0, block: null, fill: 0, blocks: null, data: null, dataLength: 0, xflag: 0 };
  if (r["mappedPages"] !== undefined) {
    const data = b64(r["data"], `${path}.data`);
    return { ...base, block: str(r["mappedPages"], `${path}.mappedPages`), addr: num(r["addr"], `${path}.addr`), data, dataLength: data.byteLength, mapped: { kind: "pages", count: 0 } };
  }
  const mb = r["mappedBlock"];
  if (mb === undefined) return null;
  const p = `${path}.mappedBlock`;
  if (typeof mb !== "object" || mb === null || Array.isArray(mb)) throw new MalformedError("object expected", 0, { path: p });
  const m = mb as Record<string, unknown>;
  const block: RamBlock = {
    name: str(m["name"], `${p}.name`),
    length: num(m["length"], `${p}.length`),
    mapped: {
      version: num(m["version"], `${p}.version`, 0xffffffff),
      pageSize: num(m["pageSize"], `${p}.pageSize`),
      bitmapOffset: num(m["bitmapOffset"], `${p}.bitmapOffset`),
      pagesOffset: num(m["pagesOffset"], `${p}.pagesOffset`),
    },
  };
  if (m["gpa"] !== undefined) block.gpa = num(m["gpa"], `${p}.gpa`);
  return { ...base, blocks: [block], mapped: { kind: "block", bitmap: b64(r["bitmap"], `${path}.bitmap`) } };
}
