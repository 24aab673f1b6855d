import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamReader } from "@vmstream/framing";
import { type XenLibxlStream, libxcImage, libxcImageBytes, libxlStream, libxlStreamBytes, xlFile, xlFileBytes } from "@vmstream/testing";
import fc from "fast-check";
import { afterAll, describe, expect, test } from "vitest";
import { type LibxlEntry, libxcCodec, verifyLibxc, verifyLibxl, verifyXl, writeLibxc, writeLibxl, writeXl } from "../src/index.js";
import { negativeCases } from "./negative-cases.js";
import { verdict } from "./verdict.js";
import { sinkOf } from "./helpers.js";

/**
 * Xen's own verify-stream-v2 (Debian xen-utils-4.17, installed in CI) as the
 * peer, run through test/peer/verify_batch.py: one Python process checks a
 * whole batch of streams.
 */
const TOOL = process.env.XEN_VERIFY ?? "/usr/lib/xen-4.17/bin/verify-stream-v2";
const SHIM = join(import.meta.dirname, "peer/verify_batch.py");
const present = existsSync(TOOL);
if (!present) console.warn(`peer tests skipped: ${TOOL} is absent (install Debian xen-utils-4.17, or set XEN_VERIFY)`);

const dir = mkdtempSync(join(tmpdir(), "vmstream-xenpeer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function peer(batch: Array<{ fmt: string; bytes: Uint8Array }>): Array<{ rc: number; error: string }> {
  const parts: Buffer[] = [];
  for (const b of batch) {
    const f = Buffer.from(b.fmt);
    const h = Buffer.alloc(4);
    h.writeUInt32LE(f.length);
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.bytes.byteLength);
    parts.push(h, f, n, Buffer.from(b.bytes));
  }
  const file = join(dir, `batch-${Date.now()}-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(file, Buffer.concat(parts));
  const out = execFileSync("python3", [SHIM, file], { encoding: "utf8", maxBuffer: 1 << 26 });
  rmSync(file);
  return out.trim().split("\n").map((l) => JSON.parse(l));
}

const RUNS = Number(process.env.FC_NUM_RUNS ?? 150);
const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 0x5eed;

describe.skipIf(!present)("verify-stream-v2 as peer", () => {
  test("the mutation cases: the peer (with its two Python 3 defects corrected) and we agree except where the spec overrules it", async () => {
    const res = peer(negativeCases.map((c) => ({ fmt: c.fmt, bytes: c.bytes })));
    for (const [i, c] of negativeCases.entries()) {
      const got = res[i]!;
      // The recorded table was made with the stock tool; our shim differs only on its defects.
      expect(got.rc, `${c.name}: ${got.error}`).toBe(c.shim ?? c.peer);
      const peerVerdict = got.rc === 0 ? "accept" : "reject";
      const ours = await verdict(c.fmt, c.bytes);
      if (ours !== peerVerdict) expect(c.why, `${c.name}: we ${ours}, the peer says ${peerVerdict}, and no exception is documented`).toBeTruthy();
    }
  });

  test(`${RUNS} random valid images of each layer, written by our writer, pass the peer`, async () => {
    const params = { seed: SEED, numRuns: RUNS };
    const batch: Array<{ fmt: string; bytes: Uint8Array }> = [];
    for (const img of fc.sample(libxcImage(), params)) {
      const bytes = await sinkOf((s) => writeLibxc({ header: img.header, records: img.records, qemuTail: null }, s));
      expect(Buffer.from(bytes).equals(Buffer.from(libxcImageBytes(img)))).toBe(true);
      await verifyLibxc(StreamReader.of(bytes));
      batch.push({ fmt: "libxc", bytes });
    }
    const entries = (s: XenLibxlStream): LibxlEntry[] => [
      { libxl: { type: "LIBXC_CONTEXT" } },
      { libxcHeader: s.image.header },
      ...s.image.records.map((r) => ({ libxc: r })),
      ...s.after.map((r) => ({ libxl: r })),
    ];
    for (const s of fc.sample(libxlStream(), params)) {
      const bytes = await sinkOf((o) => writeLibxl({ options: s.options, entries: entries(s) }, o));
      expect(Buffer.from(bytes).equals(Buffer.from(libxlStreamBytes(s)))).toBe(true);
      await verifyLibxl(StreamReader.of(bytes));
      batch.push({ fmt: "libxl", bytes });
    }
    for (const f of fc.sample(xlFile(), params)) {
      const cfg = f.config === null ? null : new TextEncoder().encode(`${f.config}\0`);
      const header = { mandatoryFlags: cfg ? 3 : 2, optionalFlags: 0, config: cfg ?? new Uint8Array(0), extra: new Uint8Array(0) };
      const bytes = await sinkOf((o) => writeXl({ header, libxl: { options: f.libxl.options, entries: entries(f.libxl) } }, o));
      expect(Buffer.from(bytes).equals(Buffer.from(xlFileBytes(f)))).toBe(true);
      await verifyXl(StreamReader.of(bytes));
      batch.push({ fmt: "xl", bytes });
    }
    const res = peer(batch);
    const bad = res.flatMap((r, i) => (r.rc === 0 ? [] : [`#${i} ${batch[i]!.fmt}: ${r.error}`]));
    expect(bad).toEqual([]);
  });

  test("libxc 2 → 3 conversions of random v2 images pass the peer", async () => {
    const batch: Array<{ fmt: string; bytes: Uint8Array }> = [];
    for (const img of fc.sample(libxcImage({ version: 2 }), { seed: SEED + 1, numRuns: RUNS })) {
      const v2 = libxcImageBytes(img);
      batch.push({ fmt: "libxc", bytes: await sinkOf((s) => libxcCodec.convert!(StreamReader.of(v2), "2", { family: "libxc", version: "3" }, s, {})) });
    }
    expect(peer(batch).filter((r) => r.rc !== 0)).toEqual([]);
  });

  test("the shim is not blind: a valid stream passes, the same stream cut short fails", async () => {
    const good = libxlStreamBytes(fc.sample(libxlStream(), { seed: SEED, numRuns: 1 })[0]!);
    const bad = good.slice(0, good.byteLength - 8);
    const res = peer([
      { fmt: "libxl", bytes: good },
      { fmt: "libxl", bytes: bad },
    ]);
    expect(res.map((r) => r.rc)).toEqual([0, 1]);
  });
});
