import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The built `vmstream` command of this checkout (what `npx vmstream` runs after `npm run build`). */
export const VMSTREAM = fileURLToPath(new URL("../../cli/bin/vmstream.cjs", import.meta.url));
export const CLI_BUILT = existsSync(fileURLToPath(new URL("../../cli/dist/main.js", import.meta.url)));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `vmstream ARGS`; never throws for a non-zero exit (tests assert on `code`). */
export function vmstream(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VMSTREAM, ...args], { encoding: "utf8", maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}
