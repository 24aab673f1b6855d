/**
 * `vmstream preflight` on the real streams of fixtures/qemu-releases/: the
 * refusals of that README's table (QEMU's own messages) and the
 * cross-release loads that real QEMU performs. Destinations are described by
 * streams a destination QEMU wrote (probes) and by -dump-vmstate files; the
 * live comparison with real QEMU loads is compat/test/preflight-real.test.ts.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES } from "./fixtures.js";
import { vmstream } from "./run.js";

const R = (n: string) => join(FIXTURES, "qemu-releases", n);

async function preflight(...args: string[]) {
  const r = await vmstream(["preflight", ...args]);
  return { code: r.code, lines: r.stdout.toString().trimEnd().split("\n"), stderr: r.stderr.toString() };
}

describe("vmstream preflight: the cross-release loads real QEMU performs", () => {
  it("pc-q35-7.2 written by 7.2 loads on 10.0 and back (probes and dumps of the other release)", async () => {
    for (const [s, d, dump] of [
      ["cross/7.2-to-pc-q35-7.2.mig", "cross/10.0-to-pc-q35-7.2.mig", "dumps/vmstate-10.0.json"],
      ["cross/10.0-to-pc-q35-7.2.mig", "cross/7.2-to-pc-q35-7.2.mig", "dumps/vmstate-7.2.json"],
    ]) {
      const r = await preflight(R(s!), "--against", R(d!), "--dump", R(dump!));
      expect(r.code, r.lines.join("\n") + r.stderr).toBe(0);
      expect(r.lines.at(-1)).toMatch(/^loads: .* \(checked machine type, capabilities, .*RAM blocks/);
    }
  });
  it("5.2's pc-q35-5.2 stream against 7.2's and 10.0's dumps: every layout loads", async () => {
    for (const dump of ["dumps/vmstate-7.2.json", "dumps/vmstate-10.0.json"]) {
      const r = await preflight(R("5.2/q35-5.2-devices.mig"), "--against", R(dump));
      expect(r.code, r.lines.join("\n")).toBe(0);
    }
  });
});

describe("vmstream preflight: QEMU's refusals, in QEMU's words", () => {
  it("machine type", async () => {
    const r = await preflight(R("cross/7.2-to-pc-q35-7.2.mig"), "--against", R("5.2/q35-5.2-devices.mig"));
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe("refused: Machine type received is 'pc-q35-7.2' and local is 'pc-q35-5.2'");
  });
  it("postcopy advise without postcopy-ram", async () => {
    const r = await preflight(R("10.0/pc-10.0-postcopy.mig"), "--against", R("10.0/pc-10.0-stopped.mig"));
    expect(r.code).toBe(1);
    expect(r.lines).toContain("refused: RAM postcopy is disabled but have 16 byte advise");
    expect((await preflight(R("10.0/pc-10.0-postcopy.mig"), "--against", R("10.0/pc-10.0-stopped.mig"), "--postcopy")).code).toBe(0);
  });
  it("UUID under validate-uuid", async () => {
    const r = await preflight(R("10.0/pc-10.0-uuid.mig"), "--against", R("10.0/pc-10.0-stopped.mig"), "--uuid", "0b5e55ed-c0de-4a11-9e57-0000000000ff");
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe("refused: UUID received is 0b5e55ed-c0de-4a11-9e57-000000000010 and local is 0b5e55ed-c0de-4a11-9e57-0000000000ff");
  });
  it("a firmware of another size (the XBZRLE stream's 64 KiB BIOS)", async () => {
    const r = await preflight(R("10.0/pc-10.0-xbzrle.mig"), "--against", R("10.0/pc-10.0-stopped.mig"));
    expect(r.code).toBe(1);
    expect(r.lines).toContain("refused: Size mismatch: pc.bios: 0x10000 != 0x40000: Invalid argument");
  });
  it("mapped-ram without the capability", async () => {
    const r = await preflight(R("10.0/pc-10.0-mappedram-m16.mig"), "--against", R("10.0/pc-10.0-stopped.mig"));
    expect(r.code).toBe(1);
    expect(r.lines[0]).toBe("refused: Capability mapped-ram is off, but received capability is on");
  });
  it("a 10.0 machine-type stream's e1000e against 7.2's dump: core.timadj is more than 7.2 reads", async () => {
    const r = await preflight(R("10.0/q35-10.0-devices.mig"), "--against", R("dumps/vmstate-7.2.json"), "--json");
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.lines.join("\n"));
    expect(doc.causes.map((c: { subject: string }) => c.subject)).toEqual(["0000:00:02.0/e1000e 0"]);
    expect(doc.causes[0].message).toMatch(/^error while loading state for instance 0x0 of device '0000:00:02.0\/e1000e': core.timadj /);
  });
  it("a file that is not a stream is invalid input (exit 1, the error line)", async () => {
    const r = await preflight(R("dumps/vmstate-7.2.json"), "--against", R("10.0/pc-10.0-stopped.mig"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vmstate-7\.2\.json: qemu: offset 0: not a QEMU savevm stream/);
  });
});
