/**
 * The reference for `cat FILE | vmstream verify -`: a Node process that only
 * reads standard input to the end (blocking reads into one 1 MiB buffer, no
 * parsing) — what any Node program reading that pipe pays, start-up included.
 */
import { readSync } from "node:fs";

const buf = new Uint8Array(1 << 20);
let n;
do {
  try {
    n = readSync(0, buf, 0, buf.byteLength, null);
  } catch (e) {
    if (e.code !== "EAGAIN") throw e;
    n = -1;
  }
} while (n !== 0);
