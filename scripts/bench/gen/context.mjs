import { contextDescriptorBytes, contextHeaderBytes } from "@vmstream/libxl";
import { FileWriter } from "./file-writer.mjs";
import { prng } from "./prng.mjs";

/**
 * A synthetic domain-context stream (context@2) of about `bytes` bytes, using
 * the project's own writer for every header and descriptor. Bodies are random
 * and 0–`maxBody` bytes long (by default 8191: a mean of 4 KiB, the size of a vCPU or shared-info record),
 * so a walk does real per-record work instead of one giant skip.
 */
export function generateContext(path, bytes, maxBody = 8191) {
  const h = { version: 2, xenMajor: 4, xenMinor: 17, bigEndian: false };
  const rnd = prng(0xc0ffee);
  const body = rnd.fill(new Uint8Array(8192));
  const out = new FileWriter(path);
  out.bytes(contextHeaderBytes(h));
  let records = 0;
  while (out.length < bytes - maxBody - 48) {
    const len = rnd.next() % (maxBody + 1);
    const type = 2 + (rnd.next() & 31);
    out.bytes(contextDescriptorBytes(h, type, records & 0xffff, len));
    out.bytes(body.subarray(0, len));
    out.zeros((8 - (len % 8)) % 8);
    records++;
  }
  out.bytes(contextDescriptorBytes(h, 0, 0, 0));
  return { size: out.close(), records: records + 1 };
}
