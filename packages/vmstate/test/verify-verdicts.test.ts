/**
 * `verify` says what QEMU's loader would do (issue 19): mutants of a real
 * QEMU 7.2 stream, each with the verdict QEMU 7.2 gives when it loads it
 * (`-incoming defer`, `migrate_incoming "exec:cat FILE"`). The expected
 * verdicts are written down from QEMU's behaviour and, where QEMU is
 * installed, checked against it in the same run.
 *
 *   error   — QEMU refuses the stream; verify fails with or without --strict.
 *   warning — QEMU loads it (the damage is after the EOF byte, which QEMU
 *             reads only to discard); verify passes with a warning, and
 *             fails under --strict.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { StreamReader, WireError, type VerifyReport } from "@vmstream/framing";
import { interopRequired } from "@vmstream/testing";
import { qemuCodec, type QemuSummary } from "../src/index.js";
import { fixture } from "./qemu-helpers.js";
import { loadStream, qemuRelease } from "@vmstream/peers";

const real = fixture("pc-7.2-stopped.mig");
const MACHINE = ["-M", "pc-i440fx-7.2", "-m", "32"];
const text = Buffer.from(real).toString("latin1");

/** The vmdesc trailer: 0x06 at `at`, be32 length, JSON at `at + 5` to the end. */
const trailerAt = text.lastIndexOf('\u0006\u0000\u0001');
const jsonAt = trailerAt + 5;

function edit(f: (b: Uint8Array) => Uint8Array | void): Uint8Array {
  const b = real.slice();
  return f(b) ?? b;
}
/** The first section header of `idstr`: type, be32 id, len, idstr, be32 instance, be32 version. */
function sectionAt(idstr: string): number {
  const i = text.indexOf(`${String.fromCharCode(idstr.length)}${idstr}`);
  expect(real[i - 5]).toBe(0x04);
  return i - 5;
}

interface Mutant {
  name: string;
  bytes: Uint8Array;
  verdict: "error" | "warning";
  /** For errors: what verify's message says; for warnings: the warning's offset. */
  message?: RegExp;
  offset?: number;
  /** What QEMU 7.2 says when it refuses the stream. */
  qemu?: RegExp;
}

const pcibus = sectionAt("PCIBUS");
const I440FX = "0000:00:00.0/I440FX";
const i440fx = sectionAt(I440FX);
const piix4 = text.indexOf('"piix4_pm"');
const mutants: Mutant[] = [
  {
    name: "a bit flip in the PCIBUS idstr (PCIBUS -> PCIBUR)",
    bytes: edit((b) => void (b[pcibus + 6 + 5]! ^= 0x01)),
    verdict: "error",
    message: /unknown savevm section or instance 'PCIBUR' 0/,
    offset: pcibus + 6,
    qemu: /Unknown savevm section or instance 'PCIBUR' 0/,
  },
  {
    name: "PCIBUS instance 0 -> 8",
    bytes: edit((b) => void (b[pcibus + 6 + 6 + 3] = 8)),
    verdict: "error",
    message: /unknown savevm section or instance 'PCIBUS' 8/,
    offset: pcibus + 6 + 6,
    qemu: /Unknown savevm section or instance 'PCIBUS' 8/,
  },
  {
    name: "the I440FX section version 3 -> 1 (below QEMU's minimum; the vmdesc says 3)",
    bytes: edit((b) => void (b[i440fx + 6 + I440FX.length + 7] = 1)),
    verdict: "error",
    message: /section 0000:00:00.0\/I440FX has version 1, its vmdesc description version 3/,
    offset: i440fx + 6 + I440FX.length + 4,
    qemu: /error while loading state for instance 0x0 of device '0000:00:00.0\/I440FX'/,
  },
  {
    name: "the vmdesc JSON cut short (the file truncated 100 bytes early)",
    bytes: real.subarray(0, real.length - 100),
    verdict: "warning",
    offset: trailerAt + 1,
  },
  {
    name: "a non-UTF-8 byte in the vmdesc JSON",
    bytes: edit((b) => void (b[real.length - 50] = 0xff)),
    verdict: "warning",
    offset: jsonAt,
  },
  {
    name: "a changed character that breaks the vmdesc JSON syntax",
    bytes: edit((b) => void (b[jsonAt + text.slice(jsonAt).indexOf('"devices"')] = 0x7b)),
    verdict: "warning",
    offset: jsonAt,
  },
  {
    name: "a field size inside a struct of piix4_pm's vmdesc entry changed (the vmdesc contradicts itself)",
    bytes: edit((b) => {
      // The first "size": N of a struct field after piix4_pm: one more than its fields add up to.
      const k = text.indexOf('"type": "struct"', piix4);
      const m = /"size": (\d+)/.exec(text.slice(k))!;
      const at = k + m.index + 8;
      const n = String(Number(m[1]) + 1);
      expect(n.length).toBe(m[1]!.length);
      for (let i = 0; i < n.length; i++) b[at + i] = n.charCodeAt(i);
    }),
    verdict: "warning",
    offset: jsonAt,
  },
  {
    name: "bytes after the vmdesc trailer",
    bytes: (() => {
      const b = new Uint8Array(real.length + 3);
      b.set(real);
      b.set([0x51, 0x45, 0x56], real.length);
      return b;
    })(),
    verdict: "warning",
    offset: real.length,
  },
];

async function verify(b: Uint8Array, strict: boolean): Promise<VerifyReport | WireError> {
  try {
    return await qemuCodec.verify(StreamReader.of(b), "3", strict ? { strict: true } : {});
  } catch (e) {
    if (e instanceof WireError) return e;
    throw e;
  }
}

describe("verify's verdict on mutants of pc-7.2-stopped.mig", () => {
  test("the mutants are what they say (sanity of the edits)", async () => {
    expect(real[trailerAt]).toBe(0x06);
    expect(real[trailerAt - 1]).toBe(0x00);
    const s = (await qemuCodec.inspect(StreamReader.of(real), "3", {})).json as QemuSummary;
    expect(s.vmdesc?.offset).toBe(trailerAt);
    expect(s.sections.find((x) => x.idstr === "PCIBUS")?.offset).toBe(pcibus);
    expect(s.sections.find((x) => x.idstr === I440FX)).toMatchObject({ offset: i440fx, version: 3 });
    expect(piix4).toBeGreaterThan(jsonAt);
  });

  test.each(mutants.map((m) => [m.name, m]))("%s", async (_, m) => {
    const lenient = await verify(m.bytes, false);
    const strict = await verify(m.bytes, true);
    if (m.verdict === "error") {
      expect(lenient).toBeInstanceOf(WireError);
      expect((lenient as WireError).message).toMatch(m.message!);
      expect((lenient as WireError).offset).toBe(m.offset);
      expect(strict).toBeInstanceOf(WireError);
    } else {
      expect(lenient).not.toBeInstanceOf(WireError);
      const rep = lenient as VerifyReport;
      expect(rep.warnings?.length).toBe(1);
      expect(rep.warnings![0]!.offset).toBe(m.offset);
      // The warning is about the trailer, never a device.
      expect(rep.warnings![0]!.message).toMatch(/vmdesc/);
      expect(rep.warnings![0]!.message).not.toMatch(/piix4_pm\b.*bytes, vmdesc says/);
      expect(strict).toBeInstanceOf(WireError);
      expect((strict as WireError).offset).toBe(m.offset);
    }
  });

  test("the unmutated stream has neither warnings nor scanned bodies", async () => {
    const rep = (await verify(real, true)) as VerifyReport;
    expect(rep.warnings).toBeUndefined();
    expect(rep.notes).toEqual([]);
  });
});

const have = qemuRelease("7.2") !== undefined;
const dir = mkdtempSync(join(tmpdir(), "vmstream-verdicts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** QEMU 7.2's verdict: null when it loads the stream, else its error output. */
async function qemuVerdict(file: string): Promise<string | null> {
  const r = await loadStream("7.2", MACHINE, file);
  // Loaded: QEMU stays up, paused as the source was. Refused: QEMU 7.2 exits (1) with its reason on stderr.
  if (r.ok) return /paused \(prelaunch\)|running|paused/.test(r.status) ? null : r.status;
  return r.error || r.status || "refused without a message";
}

describe("QEMU 7.2 gives the same verdicts", () => {
  if (!have) {
    if (interopRequired()) test("qemu-system-x86_64 is installed (VMSTREAM_INTEROP=required)", () => expect(have).toBe(true));
    else test.skip("skipped: qemu-system-x86_64 (QEMU 7.2) is not installed", () => {});
    return;
  }
  test("the unmutated stream loads", async () => {
    const f = join(dir, "real.mig");
    writeFileSync(f, real);
    expect(await qemuVerdict(f)).toBeNull();
  }, 60_000);

  test.each(mutants.map((m, i) => [m.name, m, i] as const))(
    "%s",
    async (_, m, i) => {
      const f = join(dir, `mutant-${i}.mig`);
      writeFileSync(f, m.bytes);
      const q = await qemuVerdict(f);
      if (m.verdict === "error") {
        expect(q).not.toBeNull();
        expect(q).toMatch(m.qemu!);
      } else {
        // QEMU loads it: vmstream's default verdict (exit 0) agrees.
        expect(q).toBeNull();
      }
    },
    60_000,
  );
});
