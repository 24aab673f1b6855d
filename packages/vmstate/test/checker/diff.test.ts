import { readFileSync } from "node:fs";
import { fc, test as fcTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import { sampleDevices, sampleReleases } from "../../src/samples/index.js";
import { dumpVmstate, dumpVmstateFile, formatFinding, schemaDiff, schemaDiffExitCode, type Finding, type FindingCode } from "../../src/checker/index.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../../../../fixtures/qemu/static-checker/${name}`, import.meta.url), "utf8")) as unknown;
const dump1 = fixture("dump1.json");
const dump2 = fixture("dump2.json");

/**
 * Output of QEMU 7.2's own checker (`python3 scripts/vmstate-static-checker.py
 * -s dump1.json -d dump2.json`, git tag v7.2.0), exit status 13. Each line is
 * paired with the finding code we give the same problem.
 */
const QEMU_7_2_DUMP1_TO_DUMP2: [string, FindingCode, string][] = [
  ['Section "fw_cfg" does not exist in dest', "section-missing", "fw_cfg"],
  ['Section "fusbh200-ehci-usb" version error: 2 > 1', "version-too-new", "fusbh200-ehci-usb"],
  ['Section "fusbh200-ehci-usb", Description "ehci-core": expected field "usbsts", got "usbsts_pending"; skipping rest', "field-name", "fusbh200-ehci-usb"],
  ['Section "pci-serial-4x" Description "pci-serial-multi": Entry "Fields" missing', "entry-missing", "pci-serial-4x"],
  ['Section "intel-hda-generic", Description "intel-hda", Field "pci": missing description', "description-missing", "intel-hda-generic"],
  ['Section "cfi.pflash01": Entry "Description" missing', "entry-missing", "cfi.pflash01"],
  ['Section "megasas", Description "PCIDevice": expected field "irq_state", while dest has no further fields', "dest-fields-exhausted", "megasas"],
  ['Section "PIIX3-xen" Description "PIIX3": minimum version error: 1 < 2', "version-too-old", "PIIX3-xen"],
  ['Section "PIIX3-xen" Description "PIIX3": Entry "Subsections" missing', "entry-missing", "PIIX3-xen"],
  ['Section "tpci200": Description "tpci200" missing, got "tpci2002" instead; skipping', "description-name", "tpci200"],
  ['Section "sun-fdtwo" Description "fdc": version error: 2 > 1', "version-too-new", "sun-fdtwo"],
  ['Section "sun-fdtwo", Description "fdrive": Subsection "fdrive/media_rate" not found', "subsection-missing", "sun-fdtwo"],
  ['Section "usb-kbd" Description "usb-kbd" Field "kbd.keycodes" size mismatch: 4 , 2', "size-mismatch", "usb-kbd"],
];

/** The same script with -s dump2.json -d dump1.json: exit status 6. */
const QEMU_7_2_DUMP2_TO_DUMP1: [string, FindingCode, string][] = [
  ['Section "fw_cfg2" does not exist in dest', "section-missing", "fw_cfg2"],
  ['Section "fusbh200-ehci-usb", Description "ehci-core": expected field "usbsts_pending", got "usbsts"; skipping rest', "field-name", "fusbh200-ehci-usb"],
  ['Section "PIIX3-xen" Description "PIIX3": version error: 3 > 1', "version-too-new", "PIIX3-xen"],
  ['Section "tpci200": Description "tpci2002" missing, got "tpci200" instead; skipping', "description-name", "tpci200"],
  ['Section "sun-fdtwo" Description "fdc": minimum version error: 1 < 2', "version-too-old", "sun-fdtwo"],
  ['Section "usb-kbd" Description "usb-kbd" Field "kbd.keycodes" size mismatch: 2 , 4', "size-mismatch", "usb-kbd"],
];

/** Findings the 7.2 script does not print on dump1 → dump2, each explained in docs/spec/vmstate.md. */
const EXTRA_DUMP1_TO_DUMP2: string[] = [];

/** Every QEMU finding has one of ours with the same section and kind; return the rest. */
function coverQemu(ours: Finding[], qemu: [string, FindingCode, string][]): Finding[] {
  const left = ours.filter((f) => f.severity === "error");
  for (const [line, code, section] of qemu) {
    const i = left.findIndex((f) => f.code === code && f.section === section);
    expect(i, `no finding for QEMU's: ${line}`).toBeGreaterThanOrEqual(0);
    left.splice(i, 1);
  }
  return left;
}

describe("schemaDiff on QEMU's dump1/dump2", () => {
  test("dump1 → dump2: all 13 findings of the 7.2 checker, and the machine warning", () => {
    const f = schemaDiff(dump1, dump2);
    const extra = coverQemu(f, QEMU_7_2_DUMP1_TO_DUMP2);
    // Where we go beyond the script (docs/spec/vmstate.md, "schema-diff"):
    expect(extra.map((x) => `${x.section} ${x.path}: ${x.code}`)).toEqual(EXTRA_DUMP1_TO_DUMP2);
    expect(f.filter((x) => x.severity === "warning").map((x) => x.code)).toContain("machine-type");
    expect(schemaDiffExitCode(f)).toBe(1);
    expect(formatFinding(f.find((x) => x.code === "size-mismatch")!)).toBe(
      'error: section "usb-kbd" usb-kbd > kbd.keycodes: size 4 in source, 2 in dest',
    );
  });
  test("dump2 → dump1: all 6 findings of the 7.2 checker", () => {
    coverQemu(schemaDiff(dump2, dump1), QEMU_7_2_DUMP2_TO_DUMP1);
  });
  test("a dump against itself: only the inconsistent description each file holds", () => {
    // QEMU 7.2's script on the same pairs prints exactly one line and exits 1:
    //   dump1: Section "PIIX3-xen" Description "PIIX3": minimum version error: 1 < 2
    //   dump2: Section "sun-fdtwo" Description "fdc": minimum version error: 1 < 2
    expect(schemaDiff(dump1, dump1).map((x) => `${x.section} ${x.path} ${x.code}`)).toEqual(["PIIX3-xen PIIX3 version-too-old"]);
    expect(schemaDiff(dump2, dump2).map((x) => `${x.section} ${x.path} ${x.code}`)).toEqual(["sun-fdtwo fdc version-too-old"]);
  });
  const shared = (n: string) => new URL(`../../../../fixtures/qemu/${n}`, import.meta.url);
  test("QEMU 7.2's own pc-2.0 and pc-7.2 dumps compare clean both ways", () => {
    const a = JSON.parse(readFileSync(shared("pc-2.0.vmstate.json"), "utf8")) as unknown;
    const b = JSON.parse(readFileSync(shared("pc-7.2.vmstate.json"), "utf8")) as unknown;
    expect(schemaDiff(a, b).filter((x) => x.severity === "error")).toEqual([]);
    expect(schemaDiff(b, a).filter((x) => x.severity === "error")).toEqual([]);
  });
});

describe("schemaDiff finds what the 7.2 script misses", () => {
  const base = {
    vmschkmachine: { Name: "m" },
    dev: {
      Name: "dev",
      version_id: 2,
      minimum_version_id: 1,
      Description: {
        name: "dev",
        version_id: 2,
        minimum_version_id: 1,
        Fields: [{ field: "a", version_id: 0, field_exists: false, size: 4 }],
      },
    },
  };
  const clone = () => JSON.parse(JSON.stringify(base));
  test("a field only dest reads is an error (the script stops at the source's last field)", () => {
    const dst = clone();
    dst.dev.Description.Fields.push({ field: "b", version_id: 0, field_exists: false, size: 4 });
    const f = schemaDiff(base, dst);
    expect(f.map((x) => x.code)).toEqual(["dest-extra-field"]);
    // …unless dest only reads it from a version the source does not write.
    dst.dev.Description.Fields[1].version_id = 3;
    expect(schemaDiff(base, dst)).toEqual([]);
  });
  test("a section-level minimum version violation counts even without a description", () => {
    const src = clone();
    const dst = clone();
    delete src.dev.Description;
    dst.dev.minimum_version_id = 3;
    dst.dev.version_id = 3;
    expect(schemaDiff(src, dst).map((x) => x.code)).toEqual(["version-too-old"]);
  });
});

describe("dumpVmstate on the sample devices", () => {
  test("each release loads the previous one's dump cleanly, except where QEMU would refuse", () => {
    const verdicts: string[] = [];
    for (const d of sampleDevices) {
      const rel = sampleReleases(d);
      for (let i = 1; i < rel.length; i++) {
        const f = schemaDiff(dumpVmstateFile([{ name: d.name, schema: rel[i - 1]!.schema }]), dumpVmstateFile([{ name: d.name, schema: rel[i]!.schema }]));
        verdicts.push(`${d.name} ${rel[i - 1]!.release}->${rel[i]!.release}: ${f.map((x) => x.code).join(",") || "ok"}`);
      }
    }
    expect(verdicts).toEqual([
      "sample-uart 1->2: ok",
      "sample-uart 2->3: ok",
      "sample-timer 1->2: ok",
      "sample-timer 2->3: ok",
      "sample-nic 1->2: ok",
      "sample-nic 2->3: ok",
      "sample-nic 3->4: ok",
    ]);
  });
  test("going back is caught", () => {
    const [uart, timer, nic] = sampleDevices;
    const back = (d: typeof uart, a: number, b: number) =>
      schemaDiff(dumpVmstateFile([{ name: d!.name, schema: d!.versions[a]! }]), dumpVmstateFile([{ name: d!.name, schema: d!.versions[b]! }])).map((x) => x.code);
    expect(back(uart, 2, 1)).toEqual(["version-too-new", "dest-fields-exhausted"]);
    expect(back(timer, 2, 1)).toEqual(["entry-missing"]);
    expect(back(nic, 1, 3)).toEqual(["version-too-old"]);
  });
  test("dump shape matches QEMU's keys", () => {
    const d = dumpVmstate(sampleDevices[2]!.versions[3]!);
    expect(Object.keys(d)).toEqual(["Name", "version_id", "minimum_version_id", "Description"]);
    expect(d.Description.Fields!.map((f) => [f.field, f.size])).toEqual([
      ["mac", 6],
      ["status", 4],
      ["unused", 1],
      ["rx_count", 2],
      ["rx", 12],
      ["tx_count", 4],
      ["mtu", 2],
    ]);
  });
});

describe("parseVmstateDump", () => {
  test("bad JSON and non-objects are MalformedErrors", async () => {
    const { parseVmstateDump } = await import("../../src/checker/index.js");
    expect(() => parseVmstateDump('{"a": ')).toThrow(/not JSON/);
    expect(() => parseVmstateDump("[1]")).toThrow(/JSON object/);
    expect(parseVmstateDump('{"vmschkmachine": {"Name": "x"}}')).toEqual({ vmschkmachine: { Name: "x" } });
  });
});

describe("hostile dumps", () => {
  const params = { numRuns: 300 };
  fcTest.prop([fc.jsonValue(), fc.jsonValue()], params)("schemaDiff on any JSON returns findings or throws MalformedError", (a, b) => {
    try {
      schemaDiff(a, b);
    } catch (e) {
      expect((e as Error).name).toBe("MalformedError");
    }
  });
  const real = (dump1 as Record<string, unknown>)["fusbh200-ehci-usb"];
  fcTest.prop([fc.jsonValue(), fc.nat(), fc.nat()], params)("a real section with one node replaced by any JSON", (junk, at, pick) => {
    const copy = JSON.parse(JSON.stringify({ s: real }));
    // Replace the at-th object or array node found in a walk.
    let n = 0;
    const walk = (o: any): void => {
      if (o === null || typeof o !== "object") return;
      for (const k of Object.keys(o)) {
        if (n++ === at % 60) o[k] = pick % 2 ? junk : undefined;
        walk(o[k]);
      }
    };
    walk(copy);
    try {
      schemaDiff(copy, { s: real });
      schemaDiff({ s: real }, copy);
    } catch (e) {
      expect((e as Error).name).toBe("MalformedError");
    }
  });
});
