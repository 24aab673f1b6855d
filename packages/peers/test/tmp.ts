import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A temp folder for one test file, removed after it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vmstream-peers-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
