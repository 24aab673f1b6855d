/**
 * wireDiff and the QEMU-compatible schemaDiff on the real `-dump-vmstate`
 * documents of QEMU 5.2, 7.2 and 10.0 (fixtures/qemu-releases/dumps/).
 * Ground truth: QEMU 10.0's own vmstate-static-checker.py (its committed
 * output in fixtures/qemu-releases/checker/, and the script itself when
 * installed), and real QEMU, which migrates the README's q35 device set in
 * every one of these directions (fixtures/qemu-releases/README.md, cross/).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fc, test as fcTest } from "@fast-check/vitest";
import { interopRequired } from "@vmstream/testing";
import { beforeAll, describe, expect, test } from "vitest";
import { StreamReader, bytesSource } from "@vmstream/framing";
import { schemaDiff, wireDiff } from "../../src/checker/index.js";
import { summarize } from "../../src/stream/index.js";

const root = new URL("../../../../fixtures/qemu-releases/", import.meta.url);
const dumpPath = (r: string) => new URL(`dumps/vmstate-${r}.json`, root).pathname;
const parsed = new Map<string, Record<string, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
/** Parsed once; tests that edit a dump copy the part they edit. */
const dump = (r: string) => {
  if (!parsed.has(r)) parsed.set(r, JSON.parse(readFileSync(dumpPath(r), "utf8")));
  return parsed.get(r)!;
};
const PAIRS: [string, string][] = [
  ["5.2", "7.2"],
  ["7.2", "10.0"],
  ["10.0", "7.2"],
];

/** Sections of QEMU's checker's error lines (its output is committed per pair). */
function qemuSections(out: string): string[] {
  return out
    .split("\n")
    .filter((l) => l && !l.startsWith("Warning"))
    .map((l) => /^Section "([^"]*)"/.exec(l)![1]!)
    .sort();
}

/** VMState names of the sections in the README's q35 device streams (their vmdesc, where inspect finds it). */
async function streamVmsds(file: string): Promise<Set<string>> {
  const b = readFileSync(new URL(file, root));
  const sum = await summarize(new StreamReader(bytesSource(b)), "3", {});
  const v = sum.vmdesc!;
  const doc = JSON.parse(Buffer.from(b.subarray(v.offset + 5, v.offset + 5 + v.length)).toString("latin1")) as { devices: { vmsd_name: string }[] };
  return new Set(doc.devices.map((d) => d.vmsd_name));
}

describe("--qemu-compatible reproduces QEMU 10.0's vmstate-static-checker.py", () => {
  for (const [a, b] of PAIRS) {
    test(`${a} → ${b}: the same error count and sections as the committed script output`, () => {
      const theirs = qemuSections(readFileSync(new URL(`checker/${a}-to-${b}.txt`, root), "utf8"));
      const ours = schemaDiff(dump(a), dump(b))
        .filter((f) => f.severity === "error")
        .map((f) => f.section)
        .sort();
      expect(ours).toEqual(theirs);
    });
  }
  const script = "/opt/vmstream-peers/qemu-10.0-scripts/vmstate-static-checker.py";
  const have = existsSync(script) && existsSync("/usr/bin/python3");
  if (!have) {
    const why = `release-dumps.test: QEMU 10.0's ${script} or /usr/bin/python3 missing (scripts/peers installs them)`;
    if (interopRequired()) test("QEMU 10.0's checker is installed", () => expect.fail(why));
    else console.log(`${why}; live comparison skipped`);
  }
  test.skipIf(!have)("the live script agrees, pair by pair", () => {
    for (const [a, b] of PAIRS) {
      const r = spawnSync("/usr/bin/python3", [script, "-s", dumpPath(a), "-d", dumpPath(b)], { encoding: "utf8" });
      expect(r.stdout).toBe(readFileSync(new URL(`checker/${a}-to-${b}.txt`, root), "utf8"));
    }
  });
});

describe("wireDiff on the release dumps", () => {
  const real = new Set<string>();
  beforeAll(async () => {
    for (const f of ["cross/7.2-to-pc-q35-7.2.mig", "cross/10.0-to-pc-q35-7.2.mig", "5.2/q35-5.2-devices.mig"]) for (const n of await streamVmsds(f)) real.add(n);
    expect(real.has("e1000e")).toBe(true);
  });

  for (const [a, b] of [...PAIRS, ["7.2", "5.2"]] as [string, string][]) {
    test(`${a} → ${b}: no device of the real q35 streams is called broken (real QEMU migrates them)`, () => {
      const d = wireDiff(dump(a), dump(b));
      const src = dump(a);
      const broken = d.devices.filter((v) => v.verdict === "broken" && real.has(src[v.device]?.Description?.name));
      expect(broken.map((v) => `${v.device}: ${v.findings.find((f) => f.severity === "error")?.reason}`)).toEqual([]);
    });
    test(`${a} → ${b}: "only in source" is exactly the devices QEMU's checker says do not exist in dest`, () => {
      const d = wireDiff(dump(a), dump(b));
      const missing = Object.keys(dump(a)).filter((k) => k !== "vmschkmachine" && !(k in dump(b)));
      expect(d.onlyInSource.sort()).toEqual(missing.sort());
      if (a !== "7.2" || b !== "5.2") {
        const said = readFileSync(new URL(`checker/${a}-to-${b}.txt`, root), "utf8")
          .split("\n")
          .map((l) => /^Section "([^"]*)" does not exist in dest$/.exec(l)?.[1])
          .filter((x): x is string => x !== undefined);
        expect(d.onlyInSource.sort()).toEqual(said.sort());
      }
      // None of them is a layout finding.
      expect(d.findings.filter((f) => f.kind === "layout" && d.onlyInSource.includes(f.device))).toEqual([]);
    });
  }

  test("e1000e 7.2 → 10.0: no layout error; two fields retired into VMSTATE_UNUSED, core.timadj conditional", () => {
    const d = wireDiff(dump("7.2"), dump("10.0"));
    const v = d.devices.find((x) => x.device === "e1000e")!;
    expect(v.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(v.findings.filter((f) => f.code === "retired").map((f) => f.path)).toEqual(["core.itr_intr_pending", "core.eitr_intr_pending"]);
    expect(v.findings.find((f) => f.code === "dest-extra")?.when).toEqual([{ field: "e1000e.core.timadj" }]);
    expect(v.drops).toBe(true);
  });

  test("hpet 7.2 → 10.0: num_timers → num_timers_save is a rename over the same byte", () => {
    const v = wireDiff(dump("7.2"), dump("10.0")).devices.find((x) => x.device === "hpet")!;
    expect(v.verdict).toBe("compatible");
    expect(v.findings.map((f) => [f.code, f.severity])).toEqual([["renamed", "info"]]);
  });
});

describe("wireDiff on edited copies of a real device", () => {
  type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const base = dump("10.0");
  const one = (name: string, edit: (d: J) => void) => {
    const dst = JSON.parse(JSON.stringify({ [name]: base[name] })) as J;
    edit(dst[name].Description);
    return wireDiff({ [name]: base[name] }, dst).devices[0]!;
  };
  test("a renamed field with the same bytes loads (info); a changed size does not", () => {
    const renamed = one("hpet", (d) => (d.Fields[1].field = "renamed_field"));
    expect(renamed.verdict).toBe("compatible");
    expect(renamed.findings.map((f) => f.code)).toEqual(["renamed"]);
    const resized = one("hpet", (d) => (d.Fields[1].size += 1));
    expect(resized.verdict).toBe("broken");
  });
  test("a subsection the destination lacks is refused only when sent", () => {
    const sub = base["virtio-net-pci"] ? "virtio-net-pci" : Object.keys(base).find((k) => base[k].Description?.Subsections?.length)!;
    const name = base[sub].Description.Subsections?.length ? sub : Object.keys(base).find((k) => base[k].Description?.Subsections?.length)!;
    const v = one(name, (d) => d.Subsections.splice(0, 1));
    expect(v.verdict).toBe("conditional");
    expect(v.refusedWhen).toEqual([[{ subsection: base[name].Description.Subsections[0].name }]]);
  });
  test("a section version above the destination's is refused in QEMU's words", () => {
    const dst = JSON.parse(JSON.stringify({ hpet: base.hpet })) as J;
    dst.hpet.version_id = 1;
    const v = wireDiff({ hpet: base.hpet }, dst).devices[0]!;
    expect(v.findings[0]!.reason).toBe(`savevm: unsupported version ${base.hpet.version_id} for 'hpet' v1`);
  });
});

describe("hostile dumps", () => {
  fcTest.prop([fc.jsonValue(), fc.jsonValue()], { numRuns: 300 })("wireDiff on any JSON returns findings or throws MalformedError", (a, b) => {
    try {
      wireDiff(a, b);
    } catch (e) {
      expect((e as Error).name).toBe("MalformedError");
    }
  });
});
