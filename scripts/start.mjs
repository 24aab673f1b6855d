// `npm start`: the main job — `vmstream inspect` on the sample streams bundled in the repo.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const samples = [];
const walk = (d) => {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (!n.endsWith(".md")) samples.push(p);
  }
};
walk("samples");
let status = 0;
for (const s of samples) {
  console.log(`\n$ vmstream inspect ${s}`);
  const r = spawnSync(process.execPath, ["packages/cli/bin/vmstream.js", "inspect", s], { stdio: "inherit" });
  if (r.status !== 0) status = 1;
}
process.exit(status);
