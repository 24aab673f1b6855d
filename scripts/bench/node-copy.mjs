/**
 * The floor under `vmstream memory` on this machine: a Node process that only
 * copies IN to a new file OUT — synchronous pread/pwrite of 4 MiB blocks from
 * one buffer, no parsing, no copy in JavaScript. Node cannot ask the kernel to
 * copy a range between files (cp does: copy_file_range), so every byte goes
 * through a read and a write; start-up is included, as for every row.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

const [src, dst] = process.argv.slice(2);
const fin = openSync(src, "r");
const fout = openSync(dst, "wx");
const size = fstatSync(fin).size;
const buf = new Uint8Array(4 << 20);
for (let pos = 0; pos < size; ) {
  const n = readSync(fin, buf, 0, buf.byteLength, pos);
  if (n === 0) break;
  for (let off = 0; off < n; ) off += writeSync(fout, buf, off, n - off, pos + off);
  pos += n;
}
closeSync(fin);
closeSync(fout);
