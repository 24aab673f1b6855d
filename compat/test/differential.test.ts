/**
 * The CI subset of `npm run differential`: 102 mutants of real QEMU 5.2, 7.2
 * and 10.0 streams, each loaded by the release that wrote it, and 102 mutants
 * of Xen streams judged by verify-stream-v2, beside `vmstream verify`. Every
 * disagreement must have a written reason (compat/differential-known.json,
 * explained in docs/security.md). Runs on the built CLI.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { interopRequired } from "@vmstream/testing";
import { describe, expect, test } from "vitest";
import { QEMU_TARGETS, qemuBinary, readKnownDisagreements, renderDifferential, runDifferential, unexplained } from "../src/differential/index.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SEED = Number(process.env.FC_SEED ?? 20261207);
const releases = [...new Set(QEMU_TARGETS.map((t) => t.release))];
const missing = releases.filter((r) => !qemuBinary(r));
const built = existsSync(join(REPO, "packages/cli/dist/main.js"));

if (missing.length) {
  const why = `QEMU ${missing.join(", ")} not installed (scripts/peers/install.sh installs them)`;
  if (interopRequired()) throw new Error(`${why}, and VMSTREAM_INTEROP=required`);
  console.warn(`differential: the missing releases are left out: ${why}`);
}
if (!built) console.warn("differential: skipped, the CLI is not built (npm run build)");

describe.skipIf(!built)("verify agrees with the real loaders (differential subset)", () => {
  test(`seed ${SEED}: at least 100 QEMU and 100 Xen mutants, no unexplained disagreement`, async () => {
    const res = await runDifferential({
      repo: REPO,
      seed: SEED,
      subset: true,
      qemuPerStream: 34,
      xenPerStream: 17,
      known: readKnownDisagreements(join(REPO, "compat/differential-known.json")),
    });
    console.log(renderDifferential(res));
    const qemu = res.rows.filter((r) => r.family === "qemu");
    const xen = res.rows.filter((r) => r.family !== "qemu");
    if (!missing.length) expect(qemu.length).toBeGreaterThanOrEqual(100);
    if (!res.missing.some((m) => m.startsWith("Xen"))) expect(xen.length).toBeGreaterThanOrEqual(100);
    expect(unexplained(res).map((r) => `${r.stream} #${r.index} ${r.what}: vmstream ${r.ours.verdict} (${r.ours.message}), loader ${r.peer.verdict} (${r.peer.message})`)).toEqual([]);
  }, 900_000);
});
