/**
 * The committed `-dump-vmstate` documents of QEMU 5.2, 7.2 and 10.0
 * (fixtures/qemu-releases/dumps/, provenance in that folder's README).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseVmstateDump } from "@vmstream/vmstate";
import { COMPAT_DIR } from "../files.js";

export type Release = "5.2" | "7.2" | "10.0";
export const RELEASES: readonly Release[] = ["5.2", "7.2", "10.0"];

export const FIXTURES = join(COMPAT_DIR, "..", "fixtures", "qemu-releases");
export const dumpPath = (r: Release): string => join(FIXTURES, "dumps", `vmstate-${r}.json`);

let cache: Record<Release, Record<string, unknown>> | undefined;

/** Parsed once per process; callers must not modify them. */
export function readDumps(): Record<Release, Record<string, unknown>> {
  cache ??= Object.fromEntries(RELEASES.map((r) => [r, parseVmstateDump(readFileSync(dumpPath(r), "utf8"), `vmstate-${r}.json`) as Record<string, unknown>])) as Record<Release, Record<string, unknown>>;
  return cache;
}
