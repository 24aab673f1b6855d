// `npm start` (after `npm run build`): the main job — `vmstream inspect` and
// `vmstream verify` on the sample streams of scripts/samples.mjs, one after another.
import { spawnSync } from "node:child_process";

// Build quietly: a person running `npm start` wants the inspection, not turbo's log
// (which is shown in full when the build fails).
const build = spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], {
  encoding: "utf8",
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
});
if (build.status !== 0) {
  process.stdout.write(build.stdout ?? "");
  process.stderr.write(build.stderr ?? "");
  process.exit(build.status ?? 1);
}
import { existsSync } from "node:fs";
import { SAMPLES as samples } from "./samples.mjs";

const CLI = "packages/cli/bin/vmstream.cjs";
const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const bold = (s) => (tty ? `\x1b[1m${s}\x1b[0m` : s);

console.log(bold(`vmstream: inspecting ${samples.length} sample streams from fixtures/ (what they are: fixtures/README.md)`));
let failed = 0;
for (const s of samples) {
  console.log(`\n${bold(`$ vmstream inspect ${s}`)}`);
  const ins = spawnSync(process.execPath, [CLI, "inspect", s], { stdio: "inherit" });
  console.log(bold(`$ vmstream verify ${s}`));
  const ver = spawnSync(process.execPath, [CLI, "verify", s], { stdio: "inherit" });
  if (ins.status !== 0 || ver.status !== 0) failed++;
}

console.log(`\n${failed === 0 ? `All ${samples.length} samples decoded and verified.` : `${failed} of ${samples.length} samples failed.`}`);
console.log("Next: npx vmstream inspect YOUR-STREAM   (npx vmstream --help for every command)");
if (existsSync("packages/inspector/dist/index.html")) {
  console.log("      open packages/inspector/dist/index.html in a browser to explore a stream byte by byte");
}
process.exitCode = failed === 0 ? 0 : 1;
