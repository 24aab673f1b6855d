/**
 * The "which QEMU release writes what" table (QEMU_WIRE_FEATURES in
 * @vmstream/wire-spec, rendered into docs/spec/qemu.md) claims, for every
 * feature, which of the fixture releases' real streams carry it. This test
 * reads every real stream in fixtures/ and checks each claim against the bytes.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { StreamReader } from "@vmstream/framing";
import { QEMU_COMMANDS, QEMU_FIXTURE_RELEASES, QEMU_RAM_FLAG, QEMU_WIRE_FEATURES } from "@vmstream/wire-spec";
import { parseStream, ParseState, type Ev } from "../src/index.js";
import { FIXTURES } from "./qemu-helpers.js";

/** Real streams by the release that wrote them (READMEs in each folder). */
function streams(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  const add = (r: string, dir: string, pick: (n: string) => boolean = () => true) =>
    m.set(r, [...(m.get(r) ?? []), ...readdirSync(join(FIXTURES, dir)).filter((n) => n.endsWith(".mig") && pick(n)).map((n) => join(FIXTURES, dir, n))]);
  add("5.2", "qemu-releases/5.2");
  add("7.2", "qemu"); // pc-2.0-old.mig too: QEMU 7.2 with an old machine type
  add("7.2", "qemu-releases/cross", (n) => n.startsWith("7.2-"));
  add("10.0", "qemu-releases/10.0");
  add("10.0", "qemu-releases/cross", (n) => n.startsWith("10.0-"));
  return m;
}

const FLAG_NAMES = Object.entries(QEMU_RAM_FLAG) as [string, number][];

async function features(bytes: Uint8Array, seen: Set<string>, headerless = false): Promise<void> {
  const st = new ParseState(4096);
  const evs: AsyncIterable<Ev> = parseStream(StreamReader.of(bytes), { version: 3, pages: false, headerless }, st);
  for await (const ev of evs) {
    switch (ev.t) {
      case "eof":
        seen.add("EOF");
        break;
      case "vmdesc":
        seen.add("VMDESCRIPTION");
        if (new TextDecoder().decode(ev.bytes).includes('"subsections"')) seen.add("SUBSECTION");
        break;
      case "config":
        seen.add("CONFIGURATION");
        for (const s of ev.subs) seen.add(s.name);
        break;
      case "command":
        seen.add("COMMAND");
        seen.add(QEMU_COMMANDS[ev.cmd]!.name);
        if (ev.pkg) await features(ev.pkg, seen, true);
        break;
      case "section":
        seen.add(ev.kind === "full" ? "SECTION_FULL" : "SECTION_START / PART / END");
        if (ev.idstr === "s390-storage_attributes") seen.add(ev.idstr);
        break;
      case "end":
        if (ev.footer) seen.add("SECTION_FOOTER");
        break;
      case "ram":
        if (ev.rec.mapped) {
          seen.add("mapped-ram header");
          seen.add("mapped-ram bitmaps and pages at file offsets");
        }
        for (const [n, f] of FLAG_NAMES) if (!ev.rec.mapped && ev.rec.flags & f) seen.add(n);
        for (const b of ev.rec.blocks ?? []) {
          if (b.gpa !== undefined) seen.add("mr_addr (be64)");
          if (b.pageSize !== undefined) seen.add("page size (be64)");
        }
        break;
      default:
        break;
    }
  }
}

test("every 'in fixtures' claim of the QEMU release table holds for the real streams", { timeout: 120_000 }, async () => {
  const byRelease = new Map<string, Set<string>>();
  for (const [r, files] of streams()) {
    const seen = new Set<string>();
    for (const f of files) await features(new Uint8Array(readFileSync(f)), seen);
    byRelease.set(r, seen);
  }
  expect([...byRelease.keys()].sort()).toEqual([...QEMU_FIXTURE_RELEASES].sort());
  const claimed = QEMU_WIRE_FEATURES.map((f) => ({ name: f.name, fixtures: f.fixtures }));
  const actual = QEMU_WIRE_FEATURES.map((f) => ({ name: f.name, fixtures: QEMU_FIXTURE_RELEASES.filter((r) => byRelease.get(r)!.has(f.name)) }));
  if (process.env.SHOW_FEATURES) console.log(JSON.stringify(actual.filter((a, i) => a.fixtures.join() !== claimed[i]!.fixtures.join())));
  expect(actual).toEqual(claimed);
  // Nothing the streams carry is missing from the table.
  const names = new Set(QEMU_WIRE_FEATURES.map((f) => f.name));
  for (const [r, seen] of byRelease) for (const n of seen) expect(names.has(n), `${r}: ${n} is not in QEMU_WIRE_FEATURES`).toBe(true);
});
