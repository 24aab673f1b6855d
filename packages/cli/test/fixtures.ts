import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./run.js";

/** The repository's fixtures (fixtures/README.md): QEMU's output, Xen's converter output, the independent Xen encoder. */
export const FIXTURES = join(REPO, "fixtures");
export const qemu = (n: string) => join(FIXTURES, "qemu", n);
export const xen = (n: string) => join(FIXTURES, "xen", n);
export const context = (n: string) => join(FIXTURES, "context", n);
export const tmp = () => mkdtempSync(join(tmpdir(), "vmstream-cli-"));
