import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Browser, type Page, chromium } from "playwright-core";
import { build } from "vite";
import { expect } from "vitest";
import { CHROMIUM_ARGS, chromiumPath } from "./chromium.js";

/** The inspector package, and test-output/ (gitignored) where the tests build the page and write screenshots. */
export const PKG = fileURLToPath(new URL("..", import.meta.url));
export const OUT = join(PKG, "test-output");

/**
 * Chromium for the e2e test `what`, or undefined: then the test skips and
 * says why, unless CI requires the peers (VMSTREAM_INTEROP=required), where
 * a missing Chromium is a failure.
 */
export function chromiumFor(what: string): string | undefined {
  const exe = chromiumPath();
  if (!exe) {
    const why = "chromium not found (set CHROMIUM_PATH or apt-get install chromium)";
    if (process.env.VMSTREAM_INTEROP === "required") throw new Error(`VMSTREAM_INTEROP=required but ${why}`);
    console.warn(`${what} skipped: ${why}`);
  }
  return exe;
}

export interface InspectorPage {
  browser: Browser;
  page: Page;
  /** Every URL the page asked for: it must never leave file:, blob: and data:. */
  requests: string[];
}

/**
 * Build the page fresh from the sources under test into test-output/`dist`
 * (each test file its own folder: the files build at the same time) and open
 * it from disk in headless Chromium: the page must work offline, with no server.
 */
export async function openInspector(exe: string, dist: string, timeoutMs: number): Promise<InspectorPage> {
  const outDir = join(OUT, dist);
  mkdirSync(OUT, { recursive: true });
  await build({ root: PKG, configFile: join(PKG, "vite.config.ts"), logLevel: "warn", build: { outDir, emptyOutDir: true } });
  const browser = await chromium.launch({ executablePath: exe, headless: true, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(timeoutMs);
  const requests: string[] = [];
  page.on("request", (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(join(outDir, "index.html")).href);
  return { browser, page, requests };
}

/** Open `file` in the page and wait until the verify line has a verdict (or asks for a snapshot). */
export async function openFile(page: Page, file: string, timeoutMs: number): Promise<void> {
  await page.setInputFiles("[data-testid=file]", file);
  await expect.poll(async () => (await page.textContent("[data-testid=verify]")) ?? "", { timeout: timeoutMs }).not.toBe("…");
}
