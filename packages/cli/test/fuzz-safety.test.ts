import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MemorySink, StreamReader } from "@vmstream/framing";
import { libxlStreamBytes } from "@vmstream/testing";
import { describe, expect, it } from "vitest";
import { codecs } from "@vmstream/codecs/all";
import { REPO } from "./run.js";

/*
 * Safe output: names that come from the stream (xenstore keys, vmdesc field
 * names) stay data in every JSON the codecs build — `__proto__` is an own
 * key, never a prototype — and survive decode → encode. And no code is ever
 * built from text: no eval or Function constructor in any package source.
 */
const codec = (f: string) => codecs.find((c) => c.family === f)!;
const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString"];

async function decodeText(family: string, b: Uint8Array): Promise<string> {
  let t = "";
  for await (const p of codec(family).decode(StreamReader.of(b), codec(family).detect(b)!, {})) t += p;
  return t;
}
async function encode(family: string, doc: unknown): Promise<Uint8Array> {
  const out = new MemorySink();
  await codec(family).encode(doc, out, {});
  return out.bytes();
}
/** Every object in a JSON value that has `key` as an own property. */
function owners(v: unknown, key: string, found: object[] = []): object[] {
  if (Array.isArray(v)) for (const x of v) owners(x, key, found);
  else if (v && typeof v === "object") {
    if (Object.hasOwn(v, key)) found.push(v);
    for (const k of Object.keys(v)) owners((v as Record<string, unknown>)[k], key, found);
  }
  return found;
}
const pristine = () => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
};

describe("hostile keys stay data", () => {
  it("libxl xenstore keys named __proto__, constructor, …: decode keeps them as own keys and encode restores the bytes", async () => {
    const bytes = libxlStreamBytes({
      options: 0,
      image: { header: { version: 3, domainType: 2, pageShift: 12, xenMajor: 4, xenMinor: 17 }, records: [{ type: "STATIC_DATA_END" }, { type: "END" }] },
      after: [
        { type: "EMULATOR_XENSTORE_DATA", emulator_id: 2, index: 0, entries: HOSTILE_KEYS.map((k) => [k, "polluted"] as [string, string]) },
        { type: "END" },
      ],
    });
    const doc = JSON.parse(await decodeText("libxl", bytes));
    for (const k of HOSTILE_KEYS) expect(owners(doc, k).length, k).toBeGreaterThan(0);
    expect(await encode("libxl", doc)).toEqual(bytes);
    const ins = await codec("libxl").inspect(StreamReader.of(bytes), "2", {});
    JSON.stringify(ins.json);
    pristine();
  });

  it("QEMU vmdesc field names __proto__ and constructor: own keys of the analyze view; decode → encode restores the bytes", async () => {
    const b = new Uint8Array(readFileSync(join(REPO, "fixtures/qemu/pc-7.2-stopped.mig")));
    // The vmdesc trailer is `0x06, be32 length, JSON` at the end; rebuild it with the timer's fields renamed.
    const j = Buffer.from(b).lastIndexOf('{"page_size"');
    const desc = Buffer.from(b.subarray(j))
      .toString("latin1")
      .replace('"name": "cpu_ticks_offset"', '"name": "__proto__"')
      .replace('"name": "cpu_clock_offset"', '"name": "constructor"');
    const json = Buffer.from(desc, "latin1");
    const bytes = new Uint8Array(j + json.length);
    bytes.set(b.subarray(0, j));
    new DataView(bytes.buffer).setUint32(j - 4, json.length);
    bytes.set(json, j);
    const view = await codec("qemu").inspect(StreamReader.of(bytes), "3", { view: "analyze" });
    const timer = owners(view.json, "__proto__");
    expect(timer.length).toBeGreaterThan(0);
    expect(Object.hasOwn(timer[0]!, "constructor")).toBe(true);
    expect(typeof (timer[0] as Record<string, unknown>)["__proto__"]).not.toBe("function");
    const doc = JSON.parse(await decodeText("qemu", bytes));
    expect(await encode("qemu", doc)).toEqual(bytes);
    pristine();
  });
});

describe("no code from text", () => {
  it("no eval, Function constructor or vm.run* in any package's src/", () => {
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|tsx|js|mjs)$/.test(n)) {
          const src = readFileSync(p, "utf8");
          src.split("\n").forEach((line, i) => {
            if (/\beval\s*\(|\bnew\s+Function\s*\(|(?<![\w.])Function\s*\(\s*["'`]|\bvm\.run\w*\(|\bWorker\([^)]*eval\s*:\s*true/.test(line)) offenders.push(`${p.slice(REPO.length)}:${i + 1}: ${line.trim()}`);
          });
        }
      }
    };
    const pkgs = join(REPO, "packages");
    for (const p of readdirSync(pkgs)) {
      const src = join(pkgs, p, "src");
      try {
        if (statSync(src).isDirectory()) walk(src);
      } catch {}
    }
    expect(offenders).toEqual([]);
  });
});
