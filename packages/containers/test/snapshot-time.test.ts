/**
 * snapshotDate and vmClock print a qcow2 snapshot's date and VM clock as
 * qemu-img does: compared with the table `TZ=UTC qemu-img snapshot -l`
 * printed for the fixtures (fixtures/artefacts/README.md), and with what the
 * installed qemu-img prints now, run on a copy of each image.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interopRequired } from "@vmstream/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type Qcow2Snapshot, bytesRandomAccess, openQcow2, snapshotDate, vmClock } from "../src/index.js";
import { ARTEFACTS, artefact, artefactPath } from "./helpers.js";

const IMAGES = ["qcow2-7.2-two-snaps.qcow2", "qcow2-10.0-snap.qcow2"];
/** One row of qemu-img's table: ID, TAG, VM SIZE, DATE, VM CLOCK (ICOUNT is blank for these images). */
const ROW = /^\s*(\d+)\s+(\S+)\s+[\d.]+ [KMG]?i?B (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (\d+:\d\d:\d\d\.\d{3})\s*$/;

interface Row {
  id: string;
  name: string;
  date: string;
  clock: string;
}

function rows(text: string): Row[] {
  return text
    .split("\n")
    .map((l) => ROW.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ id: m[1]!, name: m[2]!, date: m[3]!, clock: m[4]! }));
}

/** The table the README records under the image's name. */
function recorded(image: string): Row[] {
  const readme = readFileSync(new URL("README.md", ARTEFACTS), "utf8");
  const at = readme.indexOf(`\`${image}\`\n\n    Snapshot list:`);
  expect(at, `${image}'s qemu-img table in fixtures/artefacts/README.md`).toBeGreaterThanOrEqual(0);
  const block = readme.slice(at).split("\n\n")[1]!;
  return rows(block);
}

async function ours(image: string): Promise<Row[]> {
  const img = await openQcow2(bytesRandomAccess(artefact(image)));
  return img.snapshots.map((s: Qcow2Snapshot) => ({ id: s.id, name: s.name, date: snapshotDate(s.date.sec).replace(/ UTC$/, ""), clock: vmClock(s.vmClockNsec) }));
}

describe("snapshot date and VM clock as qemu-img prints them", () => {
  it.each(IMAGES)("%s: the table recorded in the fixtures' README", async (image) => {
    const want = recorded(image);
    expect(want.length).toBeGreaterThan(0);
    expect(await ours(image)).toEqual(want);
  });

  it("names the zone: UTC on every machine and in the browser", () => {
    expect(snapshotDate(0)).toBe("1970-01-01 00:00:00 UTC");
    expect(vmClock(0n)).toBe("00:00:00.000");
    // Hours past a day stay hours, as QEMU prints them.
    expect(vmClock(90_061_001_000_000n)).toBe("25:01:01.001");
  });

  const haveQemuImg = spawnSync("qemu-img", ["--version"]).status === 0;
  if (!haveQemuImg) {
    if (interopRequired()) throw new Error("VMSTREAM_INTEROP=required but qemu-img is missing (Debian qemu-utils)");
    console.info("skip: the live qemu-img comparison needs qemu-img (Debian qemu-utils)");
  }
  const dir = mkdtempSync(join(tmpdir(), "vmstream-snapshot-time-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it.skipIf(!haveQemuImg).each(IMAGES)("%s: what the installed qemu-img prints (TZ=UTC, on a copy)", async (image) => {
    const copy = join(dir, image);
    copyFileSync(artefactPath(image), copy);
    const r = spawnSync("qemu-img", ["snapshot", "-l", copy], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
    expect(r.status, r.stderr).toBe(0);
    const live = rows(r.stdout);
    expect(live.length).toBeGreaterThan(0);
    expect(await ours(image)).toEqual(live);
  });
});
