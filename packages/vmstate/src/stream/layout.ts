/**
 * `convert --layout plain|mapped-ram`: the same QEMU state between a plain
 * migration stream (pages as records) and a mapped-ram file (pages at fixed
 * file offsets, see mapped-ram.ts). QEMU has no offline tool for this.
 *
 * mapped-ram → plain: the plain MEM_SIZE record lists every block before any
 * page, but a mapped-ram file interleaves blocks and pages, so the block list
 * is read first by a second, header-only pass over the input (`opts.reopen`).
 * Present pages become PAGE records (ZERO when all zero); absent pages are
 * not sent, as QEMU's mapped-ram loader leaves them untouched.
 *
 * plain → mapped-ram: headers are laid out as QEMU lays them out (bitmap
 * right after the header, pages 1 MiB-aligned after it, the stream resumes
 * after the pages); PAGE records are written at their offsets through the
 * sink's `writeAt` (the last copy of a page wins, as on a destination), ZERO
 * records clear the page's bit as QEMU does, and the bitmaps are written at
 * the end. XBZRLE and compressed pages are refused: mapped-ram has neither.
 */
import { ByteReader, ByteWriter, LimitError, RefusedError, type CodecOptions, type StreamReader } from "@vmstream/framing";
import { RAM_FLAG } from "./constants.js";
import { bytesToLatin1, latin1ToBytes } from "../latin1.js";
import { MAPPED_RAM_ALIGN, MAPPED_RAM_HEADER_SIZE, MAPPED_RAM_VERSION, bitmapBytes } from "./mapped-ram.js";
import type { ConfigSub, Ev, ParseOptions } from "./parse.js";
import { parseStream, ParseState } from "./parse.js";
import type { RamBlock, RamRecord } from "./ram.js";
import type { QemuWriter } from "./writer.js";

export type Layout = "plain" | "mapped-ram";
const CAP = "mapped-ram";
const CAPS = "configuration/capabilities";
/** Bitmaps held while converting to mapped-ram: 8 TiB of guest at 4 KiB pages. */
const MAX_BITMAPS = 256 << 20;
/** Adjacent pages are gathered into one positional write of up to this many bytes. */
const COALESCE = 1 << 20;

export function layoutOpt(opts: CodecOptions): Layout | undefined {
  const l = opts["layout"];
  if (l === undefined) return undefined;
  if (l !== "plain" && l !== "mapped-ram") throw new RefusedError(`unknown layout "${String(l)}"`, 0, { expected: "plain or mapped-ram" });
  return l;
}

/** The configuration's subsections with the mapped-ram capability added or removed. */
export function withCapability(subs: readonly ConfigSub[], on: boolean): ConfigSub[] {
  const out: ConfigSub[] = [];
  let seen = false;
  for (const s of subs) {
    if (s.name !== CAPS) {
      out.push(s);
      continue;
    }
    seen = true;
    const r = new ByteReader(s.data);
    const n = r.u32be();
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(bytesToLatin1(r.bytesView(r.u8())));
    if (on && names.includes(CAP)) {
      out.push(s);
      continue;
    }
    const kept = names.filter((x) => x !== CAP);
    if (on) kept.push(CAP);
    // QEMU writes no capabilities subsection when it has none to send.
    if (kept.length > 0) out.push({ ...s, data: capsData(kept) });
  }
  if (on && !seen) out.push({ name: CAPS, version: 1, data: capsData([CAP]) });
  return out;
}

function capsData(names: string[]): Uint8Array {
  const w = new ByteWriter(64);
  w.u32be(names.length);
  for (const n of names) {
    const b = latin1ToBytes(n)!;
    w.u8(b.byteLength).bytes(b);
  }
  return w.finish().slice();
}

/** Blocks of a mapped-ram file, from a header-only pass over a second reader. */
async function mappedBlocks(reader: StreamReader, po: ParseOptions): Promise<RamBlock[]> {
  const st = new ParseState(po.pageSize ?? 4096);
  const blocks: RamBlock[] = [];
  let inMem = false;
  try {
    for await (const ev of parseStream(reader, { ...po, pages: false, ramBlocksOnly: false, ramRuns: false }, st)) {
      if (ev.t !== "ram") continue;
      if (ev.rec.mapped?.kind === "block") {
        blocks.push(...ev.rec.blocks!);
        inMem = true;
      } else if (inMem || (ev.rec.flags & RAM_FLAG.MEM_SIZE && !st.ram.mappedRam)) {
        break;
      }
    }
  } finally {
    await reader.close();
  }
  return blocks;
}

interface Target {
  block: RamBlock;
  pagesOffset: number;
  bitmapOffset: number;
  bitmap: Uint8Array;
}

/** Turns parser events into the other layout; `handle` returns true when it wrote the event itself. */
export class LayoutConverter {
  private blocks: RamBlock[] | null = null;
  private readonly targets = new Map<string, Target>();
  private pendingAt = -1;
  private pending: Uint8Array | null = null;
  private pendingLen = 0;
  private current: string | null = null;

  constructor(
    readonly layout: Layout,
    private readonly opts: CodecOptions,
    private readonly po: ParseOptions,
  ) {}

  async handle(ev: Ev, st: ParseState, w: QemuWriter): Promise<boolean> {
    if (ev.t === "config") {
      w.config(ev.name, withCapability(ev.subs, this.layout === "mapped-ram"));
      return true;
    }
    if (ev.t === "eof" && this.layout === "mapped-ram") {
      await this.flushPending(w);
      for (const t of this.targets.values()) await w.writeAt(t.bitmapOffset, t.bitmap);
      return false;
    }
    if (ev.t !== "ram") return false;
    return this.layout === "plain" ? this.toPlain(ev.rec, st, w) : this.toMapped(ev.rec, st, w);
  }

  private async toPlain(rec: RamRecord, st: ParseState, w: QemuWriter): Promise<boolean> {
    if (!st.ram.mappedRam) return false;
    const ps = st.ram.pageSize;
    if (rec.flags & RAM_FLAG.MEM_SIZE && !rec.mapped) {
      const reopen = this.opts["reopen"] as (() => Promise<StreamReader>) | undefined;
      if (!reopen) throw new RefusedError("converting a mapped-ram file to a plain stream reads its block list first: it needs a file input, not a pipe", rec.offset);
      this.blocks = await mappedBlocks(await reopen(), this.po);
      await w.ramRecord({ ...rec, blocks: this.blocks });
      return true;
    }
    if (rec.mapped?.kind === "block") return true;
    if (rec.mapped?.kind === "pages") {
      const data = rec.data!;
      for (let p = 0; p < data.byteLength; p += ps) {
        const page = data.subarray(p, p + ps);
        const zero = isZero(page);
        const first = this.current !== rec.block;
        this.current = rec.block;
        await w.ramRecord({
          offset: rec.offset + p,
          flags: (zero ? RAM_FLAG.ZERO : RAM_FLAG.PAGE) | (first ? 0 : RAM_FLAG.CONTINUE),
          addr: rec.addr + p,
          block: first ? rec.block : null,
          fill: 0,
          blocks: null,
          data: zero ? null : page,
          dataLength: zero ? 0 : ps,
          xflag: 0,
        });
      }
      return true;
    }
    return false;
  }

  private async toMapped(rec: RamRecord, st: ParseState, w: QemuWriter): Promise<boolean> {
    if (st.ram.mappedRam) return false;
    const ps = st.ram.pageSize;
    const kind = rec.flags & ~RAM_FLAG.CONTINUE;
    if (kind === RAM_FLAG.MEM_SIZE) {
      await w.ramRecord({ ...rec, blocks: [] });
      let held = 0;
      let pos = w.position;
      for (const b of rec.blocks ?? []) {
        if (b.pageSize !== undefined) throw new RefusedError(`RAM block "${b.name}" has its own page size (postcopy): mapped-ram has none`, rec.offset);
        if (b.length % ps !== 0) throw new RefusedError(`RAM block "${b.name}" is not a whole number of pages`, rec.offset);
        const bmLen = bitmapBytes(b.length / ps);
        held += bmLen;
        if (held > MAX_BITMAPS) throw new LimitError(`RAM blocks of more than ${MAX_BITMAPS * 8} pages in all`, rec.offset);
        const name = latin1ToBytes(b.name)!;
        const at = pos + 1 + name.byteLength + 8 + (b.gpa !== undefined ? 8 : 0);
        const bitmapOffset = at + MAPPED_RAM_HEADER_SIZE;
        const pagesOffset = Math.ceil((bitmapOffset + bmLen) / MAPPED_RAM_ALIGN) * MAPPED_RAM_ALIGN;
        const bitmap = new Uint8Array(bmLen);
        pos = pagesOffset + b.length;
        const block: RamBlock = { ...b, mapped: { version: MAPPED_RAM_VERSION, pageSize: ps, bitmapOffset, pagesOffset } };
        this.targets.set(b.name, { block, pagesOffset, bitmapOffset, bitmap });
        // The bitmap is written at the end, when every page is known: a zero one stands in now.
        await w.ramRecord({ ...rec, flags: 0, blocks: [block], mapped: { kind: "block", bitmap } });
      }
      return true;
    }
    if (kind === RAM_FLAG.XBZRLE || kind === RAM_FLAG.COMPRESS_PAGE)
      throw new RefusedError(`${kind === RAM_FLAG.XBZRLE ? "XBZRLE" : "compressed"} page: a mapped-ram file holds whole pages only`, rec.offset);
    if (kind !== RAM_FLAG.PAGE && kind !== RAM_FLAG.ZERO) return false;
    const name = rec.block ?? st.ram.current!;
    const t = this.targets.get(name);
    if (!t) throw new RefusedError(`RAM page for block "${name}" that MEM_SIZE did not list`, rec.offset);
    const page = rec.addr / ps;
    const bit = 1 << (page & 7);
    if (kind === RAM_FLAG.ZERO && rec.fill === 0) {
      t.bitmap[page >>> 3]! &= ~bit;
      return true;
    }
    let data = rec.data!;
    if (kind === RAM_FLAG.ZERO) data = new Uint8Array(ps).fill(rec.fill);
    t.bitmap[page >>> 3]! |= bit;
    await this.put(w, t.pagesOffset + rec.addr, data);
    return true;
  }

  /** A page at `pos`: gathered with the previous ones when it follows them. */
  private async put(w: QemuWriter, pos: number, data: Uint8Array): Promise<void> {
    if (this.pending && pos === this.pendingAt + this.pendingLen && this.pendingLen + data.byteLength <= COALESCE) {
      this.pending.set(data, this.pendingLen);
      this.pendingLen += data.byteLength;
      return;
    }
    await this.flushPending(w);
    this.pending ??= new Uint8Array(COALESCE);
    this.pendingAt = pos;
    this.pending.set(data, 0);
    this.pendingLen = data.byteLength;
  }

  private async flushPending(w: QemuWriter): Promise<void> {
    if (this.pendingLen === 0) return;
    await w.writeAt(this.pendingAt, this.pending!.subarray(0, this.pendingLen));
    this.pendingLen = 0;
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.byteLength; i++) if (b[i] !== 0) return false;
  return true;
}
