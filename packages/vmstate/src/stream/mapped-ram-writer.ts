/**
 * Writes mapped-ram pseudo-records back at their file offsets: a block's
 * listing and header in the stream, its bitmap at the bitmap offset, its
 * present pages at pages offset + page × page size, and (on the next record)
 * a hole up to where the stream resumes. See mapped-ram.ts for the layout.
 */
import { MalformedError } from "@vmstream/framing";
import { latin1ToBytes } from "../latin1.js";
import { MAPPED_RAM_ALIGN, MAPPED_RAM_VERSION, bitmapBytes } from "./mapped-ram.js";
import type { RamRecord } from "./ram.js";
import type { QemuWriter } from "./writer.js";

export async function writeMappedBlock(w: QemuWriter, rec: RamRecord): Promise<void> {
  const ps = w.ram.pageSize;
  const piece = rec.mapped!;
  if (piece.kind === "pages") {
    const b = w.mappedBlock;
    if (!b || rec.block !== b.name) throw new MalformedError("mapped-ram pages outside their block", 0, { found: JSON.stringify(rec.block) });
    const data = rec.data;
    if (!data || data.byteLength === 0 || data.byteLength % ps !== 0)
      throw new MalformedError(`mapped-ram pages need whole ${ps}-byte pages of data`, 0, { found: String(data?.byteLength ?? "none") });
    if (rec.addr % ps !== 0 || rec.addr < b.next || rec.addr + data.byteLength > b.length)
      throw new MalformedError(`mapped-ram pages at ${rec.addr} out of order or beyond block "${b.name}"`, 0, { expected: `from ${b.next} to ${b.length}` });
    await w.padTo(b.pagesOffset + rec.addr);
    b.next = rec.addr + data.byteLength;
    await w.raw(data);
    await w.maybeFlush();
    return;
  }
  const block = rec.blocks?.[0];
  const h = block?.mapped;
  if (!block || !h || rec.blocks!.length !== 1) throw new MalformedError("mapped-ram block record needs one block with its header", 0);
  const name = latin1ToBytes(block.name);
  if (!name || name.byteLength === 0 || name.byteLength > 255) throw new MalformedError("RAM block name must be 1-255 latin1 chars", 0, { found: JSON.stringify(block.name) });
  if (h.pageSize !== ps || block.length % ps !== 0) throw new MalformedError("mapped-ram block length or page size does not match the stream's page size", 0);
  const bm = piece.bitmap;
  if (!bm) throw new MalformedError("mapped-ram block record without its bitmap (read with RamState.bitmaps off)", 0);
  if (bm.byteLength !== bitmapBytes(block.length / ps)) throw new MalformedError("mapped-ram bitmap size does not match the block", 0, { expected: String(bitmapBytes(block.length / ps)), found: String(bm.byteLength) });
  const o = w.bytes;
  o.u8(name.byteLength).bytes(name).u64be(BigInt(block.length));
  if (block.gpa !== undefined) o.u64be(BigInt(block.gpa));
  o.u32be(h.version ?? MAPPED_RAM_VERSION).u64be(BigInt(h.pageSize)).u64be(BigInt(h.bitmapOffset)).u64be(BigInt(h.pagesOffset));
  if (h.pagesOffset % MAPPED_RAM_ALIGN !== 0 || h.pagesOffset < h.bitmapOffset + bm.byteLength)
    throw new MalformedError("mapped-ram pages offset must be 1 MiB-aligned and after the bitmap", 0, { found: String(h.pagesOffset) });
  await w.padTo(h.bitmapOffset);
  o.bytes(bm);
  await w.padTo(h.pagesOffset);
  w.mappedBlock = { name: block.name, pagesOffset: h.pagesOffset, length: block.length, next: 0 };
  w.mappedEnd = h.pagesOffset + block.length;
}
