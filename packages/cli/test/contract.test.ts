import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { qemu, tmp, xen } from "./fixtures.js";
import { BIN, REPO, mapLimit, vmstream } from "./run.js";

const COMMANDS = ["inspect", "verify", "decode", "encode", "recode", "convert", "schema-diff", "preflight", "matrix"];
const CTX = join(REPO, "fixtures/context/ctx2-le.bin");

/** A context@2 stream of `mib` MiB: one record with a zero body, laid out as docs/spec/context.md says. */
function bigContextStream(path: string, mib: number): void {
  const body = mib * 1024 * 1024;
  const head = Buffer.alloc(16 + 16);
  // The 16-byte version-2 header (magic, version, Xen version): the sample's.
  readFileSync(CTX).copy(head, 0, 0, 16);
  head.writeUInt32LE(2, 16); // type 2
  head.writeUInt32LE(0, 20); // instance 0
  head.writeBigUInt64LE(BigInt(body), 24); // length
  const end = Buffer.alloc(16); // END: type 0, instance 0, length 0
  writeFileSync(path, Buffer.concat([head, Buffer.alloc(body), end]));
}

describe("the CLI contract (docs/cli.md) across families", () => {
  it("every command has --help with examples", async () => {
    await mapLimit(COMMANDS, 4, async (c) => {
      const r = await vmstream([c, "--help"]);
      expect(r.code, c).toBe(0);
      expect(r.stdout.toString(), c).toMatch(/^vmstream /);
      expect(r.stdout.toString(), c).toMatch(/Examples?:\n {2}vmstream /);
    });
    const top = await vmstream(["--help"]);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.stdout.toString()).toContain(`  ${c} `);
  });

  it("usage errors exit 2 with one line on stderr", async () => {
    const d = tmp();
    const cases = [
      ["frobnicate"],
      ["inspect"],
      ["inspect", CTX, "--bogus"],
      ["inspect", CTX, "--view", "nope"],
      ["inspect", "/nonexistent/file"],
      ["inspect", d], // a directory
      ["verify", CTX, "--format", "qemu@9"],
      ["recode", CTX],
      ["recode", CTX, "/nonexistent/dir/out.bin"],
      ["recode", CTX, d], // an output that is a directory
      ["convert", CTX, join(d, "o.bin")], // no --to
      ["schema-diff", "a.json"],
      ["preflight", CTX], // no destination
      ["preflight", CTX, "--against", "/nonexistent/probe.mig"],
    ];
    await mapLimit(cases, 4, async (args) => {
      const r = await vmstream(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(/^vmstream: [^\n]+\n$/);
    });
    expect(readdirSync(d)).toEqual([]);
  });

  it("detects every family from standard input", async () => {
    const cases: [string, string][] = [
      [qemu("pc-7.2-stopped.mig"), "qemu@3"],
      [xen("libxc_hvm_v2.bin"), "libxc@2"],
      [xen("libxl_hvm_xs.bin"), "libxl@2"],
      [xen("xl_hvm.bin"), "xl@1"],
      [xen("legacy_pv_32.bin"), "legacy@32"],
      [CTX, "context@2"],
    ];
    await mapLimit(cases, 4, async ([f, format]) => {
      const r = await vmstream(["verify", "-"], readFileSync(f));
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      expect(r.stdout.toString(), f).toMatch(new RegExp(`^-: ${format}: valid`));
    });
  });

  it("undetectable or too-short input is invalid at offset 0, naming --format", async () => {
    const r = await vmstream(["inspect", "-"], Buffer.from("this is not a migration stream at all\n"));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^-: unknown: offset 0: .*--format/);
    const e = await vmstream(["verify", "-"], new Uint8Array(0));
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^-: unknown: offset 0: /);
  });

  it("--format overrides detection, and a wrong one is a fault, not garbage", async () => {
    const ok = await vmstream(["verify", xen("libxc_hvm_v3.bin"), "--format", "libxc@3"]);
    expect(ok.code, ok.stderr).toBe(0);
    const wrong = await vmstream(["verify", xen("libxc_hvm_v3.bin"), "--format", "qemu@3"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`^${xen("libxc_hvm_v3.bin")}: qemu@3: offset 0: `));
  });

  it("never writes over its input, even through another path", async () => {
    const d = tmp();
    const p = join(d, "a.mig");
    writeFileSync(p, readFileSync(qemu("pc-7.2-stopped.mig")));
    mkdirSync(join(d, "sub"));
    const r = await vmstream(["recode", p, join(d, "sub", "..", "a.mig")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the input file/);
    expect(readFileSync(p).equals(readFileSync(qemu("pc-7.2-stopped.mig")))).toBe(true);
    expect(readdirSync(d).sort()).toEqual(["a.mig", "sub"]);
  });

  it("a failed recode leaves no output file and no temporary", async () => {
    const d = tmp();
    const cut = join(d, "cut.bin");
    writeFileSync(cut, readFileSync(xen("libxl_hvm_xs.bin")).subarray(0, 9000));
    const r = await vmstream(["recode", cut, join(d, "out.bin")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${cut}: libxl@2: offset \\d+: [^\\n]*\\n$`));
    expect(readdirSync(d)).toEqual(["cut.bin"]);
  });

  it("large inputs: no progress bar in pipes; a progress bar on a terminal", async () => {
    const d = tmp();
    const big = join(d, "big.bin");
    bigContextStream(big, 65); // above the 64 MiB threshold
    const piped = await vmstream(["recode", big, join(d, "copy.bin")]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe("");
    expect(readFileSync(join(d, "copy.bin")).equals(readFileSync(big))).toBe(true);
    // util-linux `script` gives the command a pseudo-terminal.
    const hasScript = spawnSync("sh", ["-c", "command -v script"]).status === 0;
    if (!hasScript) {
      rmSync(d, { recursive: true, force: true });
      return console.warn("skipping the terminal half: no `script` command");
    }
    const t = spawnSync("script", ["-qec", `${process.execPath} ${BIN} recode ${big} ${join(d, "copy2.bin")}`, "/dev/null"], { encoding: "utf8" });
    expect(t.status, t.stdout).toBe(0);
    expect(t.stdout).toMatch(/vmstream recode \[.*\] \d+% \| \d+\/65 MiB/);
    rmSync(d, { recursive: true, force: true });
  });

  it("a reader that stops early (| head) gets no stack trace and no error", () => {
    for (const args of [["decode", qemu("pc-7.2-ram6m.mig")], ["inspect", qemu("pc-7.2-netusb.mig"), "--json", "--view", "analyze"]]) {
      const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${BIN}" ${args.map((a) => `"${a}"`).join(" ")} | head -c 10 >/dev/null`], {
        encoding: "utf8",
      });
      expect(r.stderr, args[0]).toBe("");
      expect(r.status, args[0]).toBe(0);
    }
  });

  it("control characters from the stream never reach the terminal raw", async () => {
    const good = readFileSync(qemu("pc-7.2-stopped.mig"));
    const at = good.indexOf(Buffer.from([0x04, 0, 0, 0, 0, 5, ...Buffer.from("timer")]));
    const bad = Buffer.from(good);
    Buffer.from("\x1b[2Jr").copy(bad, at + 6); // an idstr that would clear the screen
    const d = tmp();
    const f = join(d, "esc.mig");
    writeFileSync(f, bad);
    const r = await vmstream(["inspect", f]);
    expect(r.stdout.includes(0x1b)).toBe(false);
    expect(r.stderr.includes("\x1b")).toBe(false);
    expect(r.stdout.toString()).toContain("\\x1b[2Jr");
  });

  it("npx vmstream works: the workspace bin is linked and runs the built CLI", () => {
    const bin = join(REPO, "node_modules/.bin/vmstream");
    expect(existsSync(bin)).toBe(true);
    const r = spawnSync(bin, ["verify", CTX], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${CTX}: context@2: valid`));
  });
});
