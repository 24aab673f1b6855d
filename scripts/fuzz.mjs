/**
 * `npm run fuzz`: a longer fuzz run than CI's, over every decoder, through the
 * built packages. Each case is generated from (seed + case number), so any
 * case can be replayed alone; every input that breaks the decoder contract is
 * written to packages/testing/regressions/<family>/<sha>.bin, where
 * packages/cli/test/fuzz-regressions.test.ts replays it forever after.
 *
 *   node scripts/fuzz.mjs [--seed N] [--runs N] [--family F] [--minutes M]
 *
 * Defaults: a random seed (printed), 1500 cases per family, every family,
 * no time limit. Besides byte mutation of streams, each family's encoder gets
 * decoded fixtures with one hostile JSON edit (`vmstream encode` reads
 * untrusted JSON); failures are saved as <sha>.json beside the .bin cases.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { codecs } from "@vmstream/codecs/all";
import { ByteWriter, StreamReader, padding8 } from "@vmstream/framing";
import { contextDescriptorBytes, contextHeaderBytes } from "@vmstream/libxl";
import * as T from "@vmstream/testing";
import fc from "fast-check";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const { values } = parseArgs({
  options: { seed: { type: "string" }, runs: { type: "string" }, family: { type: "string" }, minutes: { type: "string" } },
});
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
const runs = Number(values.runs ?? 1500);
const deadline = values.minutes ? Date.now() + Number(values.minutes) * 60_000 : Infinity;

const files = (dir, re) =>
  existsSync(join(REPO, dir))
    ? readdirSync(join(REPO, dir))
        .filter((n) => re.test(n))
        .sort()
        .map((n) => new Uint8Array(readFileSync(join(REPO, dir, n))))
    : [];

function contextBytes(s) {
  const w = new ByteWriter(1024);
  w.bytes(contextHeaderBytes(s));
  for (const r of s.records) w.bytes(contextDescriptorBytes(s, r.type, r.instance, r.body.byteLength)).bytes(r.body).zeros(padding8(r.body.byteLength));
  w.bytes(contextDescriptorBytes(s, 0, 0, 0));
  return w.finish().slice();
}

/** Same corpus and generators as packages/cli/test/fuzz-corpus.ts. */
const FAMILIES = {
  context: {
    corpus: () => files("fixtures/context", /\.bin$/),
    generated: () => fc.constantFrom(1, 2).chain((version) => T.contextStream({ version })).map(contextBytes),
  },
  libxc: { corpus: () => files("fixtures/xen", /^libxc_.*\.bin$|^conv_.*[._]libxc\.bin$/), generated: () => T.libxcImage().map(T.libxcImageBytes) },
  libxl: { corpus: () => files("fixtures/xen", /^libxl_.*\.bin$|^conv_.*[._]libxl\.bin$/), generated: () => T.libxlStream().map(T.libxlStreamBytes) },
  xl: { corpus: () => files("fixtures/xen", /^xl_.*\.bin$/), generated: () => T.xlFile().map(T.xlFileBytes) },
  legacy: { corpus: () => files("fixtures/xen", /^legacy_.*\.bin$/), generated: () => T.legacyImageArb().map((x) => x.bytes) },
  qemu: {
    corpus: () => files("fixtures/qemu", /^(pc-7\.2-(stopped|postcopy|uuid)|q35-7\.2-smp2)\.mig$/),
    generated: () => fc.tuple(T.qemuStreamModel({ maxParts: 3, maxDevices: 4 }), fc.constantFrom(3, 4)).map(([m, v]) => T.buildQemuStream(m, v)),
  },
};

/*
 * packages/testing/regressions/known-failures.json lists the saved inputs that
 * still break the contract, with the problem and why; the replay test marks
 * them it.fails. A failure whose signature (family, operation, message with
 * numbers masked) is already listed is counted but not saved again.
 */
const REG = join(REPO, "packages/testing/regressions");
const MANIFEST = join(REG, "known-failures.json");
const known = existsSync(MANIFEST) ? JSON.parse(readFileSync(MANIFEST, "utf8")) : {};
const signature = (family, v) => `${family} ${v.op.replace(/:.*/, "")} ${v.problem.replace(/\d+/g, "N").slice(0, 120)}`;
const knownSigs = new Set(Object.entries(known).map(([file, e]) => signature(file.split("/")[0], e)));
let manifestChanged = false;
/** Save `data` as a regression case unless its problem is already known; returns the repo path or null. */
function save(family, data, ext, violations, how) {
  const fresh = violations.filter((v) => !knownSigs.has(signature(family, v)));
  if (fresh.length === 0) return null;
  const sha = createHash("sha256").update(data).digest("hex").slice(0, 16);
  mkdirSync(join(REG, family), { recursive: true });
  const rel = `${family}/${sha}.${ext}`;
  writeFileSync(join(REG, rel), data);
  for (const v of fresh) knownSigs.add(signature(family, v));
  known[rel] = { op: fresh[0].op, problem: fresh[0].problem, reason: `found by npm run fuzz (${how}); not yet triaged` };
  manifestChanged = true;
  saved.push(`packages/testing/regressions/${rel}`);
  return rel;
}

console.log(`fuzz: seed ${seed}, ${runs} cases per family (replay one case: --seed ${seed} --family F, case N uses seed ${seed}+N)`);
let total = 0;
let found = 0;
const saved = [];
for (const [family, spec] of Object.entries(FAMILIES)) {
  if (values.family && values.family !== family) continue;
  const codec = codecs.find((c) => c.family === family);
  if (!codec) {
    console.log(`${family}: no codec in this build, skipped`);
    continue;
  }
  const corpus = spec.corpus();
  const arbs = [spec.generated().chain((b) => T.fuzzInput([b]))];
  if (corpus.length) arbs.unshift(T.fuzzInput(corpus, 6));
  const input = fc.tuple(fc.oneof(...arbs), T.splitPoint);
  const t0 = Date.now();
  let n = 0;
  let bad = 0;
  for (; n < runs && Date.now() < deadline; n++) {
    const [[bytes, splitAt]] = fc.sample(input, { seed: seed + n, numRuns: 1 });
    const { violations } = await T.fuzzOnce(codec, bytes, { splitAt, timeoutMs: 10_000 });
    if (violations.length === 0) continue;
    bad++;
    const rel = save(family, bytes, "bin", violations, `seed ${seed + n}`);
    console.log(`${family} case ${n} (seed ${seed + n}, ${bytes.length} bytes, split ${splitAt ?? "-"})${rel ? ` → saved ${rel}` : " (known problem)"}`);
    for (const v of violations) console.log(`  ${v.op}: ${v.problem}`);
    const first = violations.find((v) => v.thrown instanceof Error);
    if (first?.thrown instanceof Error && first.thrown.stack) console.log(first.thrown.stack.split("\n").slice(0, 4).join("\n"));
  }
  // Encoder: decoded fixtures (the smallest ones first) with one hostile edit each.
  const docs = [];
  for (const b of [...corpus].sort((x, y) => x.length - y.length).slice(0, 4)) {
    const v = codec.detect(b.subarray(0, 4096));
    if (!v) continue;
    let text = "";
    try {
      for await (const piece of codec.decode(StreamReader.of(b), v, {})) text += piece;
      docs.push(JSON.parse(text));
    } catch {}
  }
  const encodeRuns = docs.length ? Math.ceil(runs / 2) : 0;
  let m = 0;
  for (; m < encodeRuns && Date.now() < deadline; m++) {
    const [[doc, edit]] = fc.sample(fc.constantFrom(...docs).chain((d) => fc.tuple(fc.constant(d), T.jsonMutation(d))), { seed: seed + n + m, numRuns: 1 });
    const mutated = T.applyJsonMutation(doc, edit);
    const violations = await T.fuzzEncode(codec, mutated);
    if (violations.length === 0) continue;
    bad++;
    const rel = save(family, `${JSON.stringify(mutated, null, 1)}\n`, "json", violations, `encode, seed ${seed + n + m}`);
    console.log(`${family} encode case ${m} (seed ${seed + n + m}, edit ${JSON.stringify(edit.path)} ${edit.op})${rel ? ` → saved ${rel}` : " (known problem)"}`);
    for (const v of violations) console.log(`  ${v.op}: ${v.problem}`);
  }
  total += n + m;
  found += bad;
  console.log(`${family}: ${n} stream + ${m} encode cases, ${bad} failing, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
if (manifestChanged) writeFileSync(MANIFEST, `${JSON.stringify(known, null, 2)}\n`);
console.log(`fuzz: ${total} cases, ${found} failing, ${saved.length} new regression files${saved.length ? `:\n  ${saved.join("\n  ")}` : ""}`);
process.exitCode = found ? 1 : 0;
