import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./run.js";

/** Real streams from ../shared/fixtures (QEMU 7.2 output, Xen's converter output, the independent Xen encoder). */
export const SHARED = join(REPO, "../shared/fixtures");
export const qemu = (n: string) => join(SHARED, "qemu", n);
export const xen = (n: string) => join(SHARED, "xen", n);
export const tmp = () => mkdtempSync(join(tmpdir(), "vmstream-cli-"));
