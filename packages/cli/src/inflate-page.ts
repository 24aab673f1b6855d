/**
 * zlib inflate of one compressed RAM page (QEMU's `compress` capability), for
 * `memory` and `diff`. node:zlib is loaded at the first compressed page: few
 * streams have any, and every run of the command paid its loading otherwise.
 */
import { createRequire } from "node:module";

type Zlib = typeof import("node:zlib");
let zlib: Zlib | null = null;

export function inflatePage(data: Uint8Array, size: number): Uint8Array {
  zlib ??= createRequire(import.meta.url)("node:zlib") as Zlib;
  return new Uint8Array(zlib.inflateSync(data, { maxOutputLength: size }));
}
