import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";

/** The README's example, run as written (plain JavaScript inside the ts block) from the repository root, on the built packages. */
test("README example runs as written", () => {
  const repo = fileURLToPath(new URL("../../../", import.meta.url));
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", code], { cwd: repo, encoding: "utf8", timeout: 60_000 });
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe("1 snap-a 719818 34\n2 snap-b 719818 34\nvmstream-fixture pc-i440fx-7.2 xz\nqemu@3\n");
});
