/**
 * The real loads behind the release sections: every adjacent release pair,
 * forward and backward, for each machine type both releases have (the q35
 * device set of fixtures/qemu-releases/README.md, and the plain i440fx
 * machine), and the README's refusals: a destination that differs from the
 * source in one way, with QEMU's message for it.
 */
import { join } from "node:path";
import { FIXTURES, type Release } from "./dumps.js";
import { machineArgs } from "./qemu.js";

export interface RealLoadCase {
  id: string;
  from: Release;
  to: Release;
  machine: string;
  /** What the destination changes (refusal cases). */
  change?: string;
  sourceArgs?: string[];
  destArgs?: string[];
  sourceCapabilities?: string[];
  destCapabilities?: string[];
  /** A committed stream (relative to fixtures/qemu-releases) instead of a fresh save. */
  sourceFile?: string;
  /** How that stream was made (for the record). */
  sourceNote?: string;
  /** Load through `file:` (QEMU seeks in the file, as mapped-ram needs) instead of `exec:cat`. */
  loadUri?: "file";
}

const SHARED: Record<string, string[]> = {
  "5.2|7.2": ["pc-i440fx-5.2", "pc-q35-5.2"],
  "7.2|10.0": ["pc-i440fx-5.2", "pc-q35-5.2", "pc-i440fx-7.2", "pc-q35-7.2"],
};

const plain = (machine: string) => ["-M", machine, "-m", "64", "-nodefaults"];

function crossCases(): RealLoadCase[] {
  const out: RealLoadCase[] = [];
  for (const [key, machines] of Object.entries(SHARED)) {
    const [a, b] = key.split("|") as [Release, Release];
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const m of machines) {
        const args = m.startsWith("pc-q35") ? machineArgs(m) : plain(m);
        out.push({ id: `${from}->${to} ${m}`, from, to, machine: m, sourceArgs: args });
      }
    }
  }
  return out;
}

const Q35 = "pc-q35-7.2";
const UUID_SRC = "0b5e55ed-c0de-4a11-9e57-000000000010";
const UUID_DST = "0b5e55ed-c0de-4a11-9e57-0000000000ff";

/** The README's refusal table, on QEMU 7.2 → 7.2 and 7.2 → 10.0 where the machine allows it. */
function refusalCases(): RealLoadCase[] {
  const base = machineArgs(Q35);
  const withoutBalloon = base.filter((x, i) => x !== "virtio-balloon" && !(x === "-device" && base[i + 1] === "virtio-balloon"));
  const out: RealLoadCase[] = [];
  for (const to of ["7.2", "10.0"] as const) {
    out.push(
      { id: `7.2->${to} ${Q35} dest without virtio-balloon`, from: "7.2", to, machine: Q35, change: "destination lacks virtio-balloon", sourceArgs: base, destArgs: withoutBalloon },
      { id: `7.2->${to} ${Q35} dest -smp 1`, from: "7.2", to, machine: Q35, change: "destination -smp 1", sourceArgs: base, destArgs: base.map((x, i) => (base[i - 1] === "-smp" ? "1" : x)) },
      { id: `7.2->${to} ${Q35} dest -m 128`, from: "7.2", to, machine: Q35, change: "destination -m 128", sourceArgs: base, destArgs: base.map((x, i) => (base[i - 1] === "-m" ? "128" : x)) },
      { id: `7.2->${to} ${Q35} dest machine pc-q35-5.2`, from: "7.2", to, machine: Q35, change: "destination machine pc-q35-5.2", sourceArgs: base, destArgs: base.map((x) => (x === Q35 ? "pc-q35-5.2" : x)) },
    );
  }
  const uuidSrc = [...plain("pc-i440fx-7.2"), "-uuid", UUID_SRC];
  out.push({
    id: `7.2->10.0 pc-i440fx-7.2 another -uuid with validate-uuid`,
    from: "7.2",
    to: "10.0",
    machine: "pc-i440fx-7.2",
    change: "another -uuid, validate-uuid on both sides",
    sourceArgs: uuidSrc,
    destArgs: [...plain("pc-i440fx-7.2"), "-uuid", UUID_DST],
    sourceCapabilities: ["validate-uuid"],
    destCapabilities: ["validate-uuid"],
  });
  out.push({
    id: `10.0->7.2 pc-i440fx-10.0 unsupported machine type`,
    from: "10.0",
    to: "7.2",
    machine: "pc-i440fx-10.0",
    change: "a 10.0 machine type on QEMU 7.2",
    sourceArgs: plain("pc-i440fx-10.0"),
  });
  return out;
}

/**
 * The capability and firmware refusals, on QEMU 10.0's committed streams
 * (fixtures/qemu-releases/10.0, made with those capabilities), each beside the
 * load that succeeds once the destination matches.
 */
function capabilityCases(): RealLoadCase[] {
  const m = "pc-i440fx-10.0";
  const pc = (mib: number, extra: string[] = []) => ["-M", m, "-m", String(mib), "-nodefaults", ...extra];
  // Every case says what its stream and destination are (change), so the loads that succeed are told apart too.
  const one = (id: string, sourceFile: string, sourceNote: string, change: string, destArgs: string[], destCapabilities: string[], loadUri?: "file"): RealLoadCase => ({
    id: `10.0->10.0 ${m} ${id}`,
    from: "10.0",
    to: "10.0",
    machine: m,
    change,
    sourceFile,
    sourceNote,
    destArgs,
    destCapabilities,
    ...(loadUri ? { loadUri } : {}),
  });
  const mapped = "10.0/pc-10.0-mappedram-m16.mig";
  const postcopy = "10.0/pc-10.0-postcopy.mig";
  const xbzrle = "10.0/pc-10.0-xbzrle.mig";
  return [
    one("mapped-ram file, dest without mapped-ram", mapped, "mapped-ram, -m 16", "a mapped-ram stream; destination without mapped-ram", pc(16), [], "file"),
    one("mapped-ram file, dest with mapped-ram", mapped, "mapped-ram, -m 16", "a mapped-ram stream; destination with mapped-ram", pc(16), ["mapped-ram"], "file"),
    one("postcopy stream, dest without postcopy-ram", postcopy, "postcopy-ram", "a postcopy stream; destination without postcopy-ram", pc(64), []),
    one("postcopy stream, dest with postcopy-ram", postcopy, "postcopy-ram", "a postcopy stream; destination with postcopy-ram", pc(64), ["postcopy-ram"]),
    one("xbzrle stream (64 KiB firmware), dest with the default firmware", xbzrle, "xbzrle, -bios dirtier-bios.bin", "a stream of a 64 KiB firmware; destination with the default 256 KiB one", pc(64), []),
    one("xbzrle stream (64 KiB firmware), dest with the same firmware", xbzrle, "xbzrle, -bios dirtier-bios.bin", "a stream of a 64 KiB firmware; destination with the same firmware", pc(64, ["-bios", join(FIXTURES, "10.0", "dirtier-bios.bin")]), []),
  ];
}

export const REAL_LOAD_CASES: readonly RealLoadCase[] = [...crossCases(), ...refusalCases(), ...capabilityCases()];
