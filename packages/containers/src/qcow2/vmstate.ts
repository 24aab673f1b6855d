import { MalformedError, RefusedError, type Source, hex } from "@vmstream/framing";
import { QCOW2_L2_COMPRESSED, QCOW2_L2_ZERO, QCOW2_OFFSET_MASK } from "@vmstream/wire-spec";
import { type RandomAccess, readExact } from "../random-access.js";
import type { Qcow2Header } from "./header.js";
import { type Qcow2Snapshot, l1Span, l2Bits } from "./snapshots.js";

/** L1 entry bits that must be zero: 1–8 and 56–62. */
const L1_RESERVED = 0x7f00_0000_0000_01fen;
/** Standard L2 entry bits that must be zero: 1–8 and 56–61 (bit 0 is the zero flag in version 3). */
const L2_RESERVED = 0x3f00_0000_0000_01fen;
/**
 * QEMU writes the VM state front to back into freshly allocated clusters, so
 * a long stretch that maps nowhere is a broken or hostile table, not a VM
 * state: reading it would hand out gigabytes of zeros. Refused past this.
 */
const MAX_HOLE = 64 << 20;

type Piece = { host: number } | { zero: true };

/**
 * The VM state of one snapshot as a seekable `Source`: reads walk the
 * snapshot's own L1 table and the L2 tables it names, one cluster (or
 * subcluster) at a time, so memory holds one L2 table and the caller's
 * buffer, and a seek costs nothing. Zero and unallocated clusters read as
 * zeros, as QEMU reads them.
 */
export class Qcow2VmStateSource implements Source {
  readonly size: number;
  private pos = 0;
  private readonly span: number;
  private readonly l2Entries: number;
  private readonly entryBytes: number;
  private readonly subSize: number;
  private l2Offset = -1;
  private l2: DataView | null = null;
  private l1Index = -1;
  private l1Entry = 0n;
  private hole = 0;
  private holeStart = 0;

  constructor(
    private readonly ra: RandomAccess,
    private readonly h: Qcow2Header,
    private readonly snap: Qcow2Snapshot,
  ) {
    if (snap.vmStateSize === 0) throw new RefusedError(`snapshot ${snap.id} (${snap.name}) has no VM state: it is a disk-only snapshot`, snap.entryOffset + 32);
    this.size = snap.vmStateSize;
    this.span = l1Span(h);
    this.l2Entries = 2 ** l2Bits(h);
    this.entryBytes = h.extendedL2 ? 16 : 8;
    this.subSize = h.extendedL2 ? h.clusterSize / 32 : h.clusterSize;
  }

  async read(into: Uint8Array): Promise<number> {
    const n = Math.min(into.byteLength, this.size - this.pos);
    let done = 0;
    while (done < n) {
      const guest = this.snap.vmStateOffset + this.pos + done;
      const { piece, room } = await this.map(guest);
      let k = Math.min(n - done, room);
      // QEMU allocates the VM state's clusters one after another: read a run of them in one go.
      if (!("zero" in piece)) {
        while (done + k < n) {
          const next = await this.map(guest + k);
          if ("zero" in next.piece || next.piece.host !== piece.host + k) break;
          k = Math.min(n - done, k + next.room);
        }
      }
      const part = into.subarray(done, done + k);
      if ("zero" in piece) {
        part.fill(0);
        if (this.hole === 0) this.holeStart = guest;
        this.hole += k;
        if (this.hole > MAX_HOLE) {
          throw new MalformedError(
            `${this.hole} bytes of the VM state from guest offset ${this.holeStart} map to no cluster: QEMU writes a VM state densely`,
            this.snap.l1TableOffset,
          );
        }
      } else {
        this.hole = 0;
        // A data cluster may be the file's last and cut short: QEMU reads past the end as zeros.
        let got = 0;
        while (got < k) {
          const r = await this.ra.readAt(piece.host + got, part.subarray(got));
          if (r === 0) break;
          got += r;
        }
        if (got < k) part.subarray(got).fill(0);
      }
      done += k;
    }
    this.pos += n;
    return n;
  }

  async seek(n: number): Promise<number> {
    const k = Math.min(n, this.size - this.pos);
    this.pos += k;
    return k;
  }

  /** Where guest offset `g` lives, and how many bytes from there share that mapping. */
  private async map(g: number): Promise<{ piece: Piece; room: number }> {
    const h = this.h;
    const inCluster = g % h.clusterSize;
    const l1Index = Math.floor(g / this.span);
    if (l1Index >= this.snap.l1Size) return { piece: { zero: true }, room: h.clusterSize - inCluster };
    const l1At = this.snap.l1TableOffset + l1Index * 8;
    if (l1Index !== this.l1Index) {
      this.l1Entry = new DataView((await readExact(this.ra, l1At, 8, "L1 entry")).buffer).getBigUint64(0);
      this.l1Index = l1Index;
    }
    const l1e = this.l1Entry;
    if (l1e & L1_RESERVED) throw new MalformedError(`L1 entry ${l1Index} has reserved bits set`, l1At, { found: hex(l1e, 16) });
    const l2Offset = Number(l1e & QCOW2_OFFSET_MASK);
    if (l2Offset === 0) return { piece: { zero: true }, room: h.clusterSize - inCluster };
    await this.loadL2(l2Offset, l1At);
    const l2Index = Math.floor(g / h.clusterSize) % this.l2Entries;
    const entryAt = l2Offset + l2Index * this.entryBytes;
    const dv = this.l2!;
    const e = dv.getBigUint64(l2Index * this.entryBytes);
    if (e & QCOW2_L2_COMPRESSED) {
      throw new RefusedError("compressed cluster in the VM state: QEMU never writes one there, and it is not read here", entryAt);
    }
    if (e & L2_RESERVED) throw new MalformedError(`L2 entry ${l2Index} has reserved bits set`, entryAt, { found: hex(e, 16) });
    const host = Number(e & QCOW2_OFFSET_MASK);
    if (h.extendedL2) {
      if (e & QCOW2_L2_ZERO) throw new MalformedError(`L2 entry ${l2Index}: bit 0 is reserved with extended L2 entries`, entryAt);
      const bitmap = dv.getBigUint64(l2Index * 16 + 8);
      const sub = Math.floor(inCluster / this.subSize);
      const alloc = (bitmap >> BigInt(sub)) & 1n;
      const zero = (bitmap >> BigInt(32 + sub)) & 1n;
      const room = this.subSize - (inCluster % this.subSize);
      if (alloc && zero) throw new MalformedError(`L2 entry ${l2Index}: subcluster ${sub} is both allocated and zero`, entryAt + 8);
      if (!alloc) return { piece: { zero: true }, room };
      if (host === 0) throw new MalformedError(`L2 entry ${l2Index}: subcluster ${sub} is allocated but the cluster has no host offset`, entryAt);
      this.checkData(host, entryAt);
      return { piece: { host: host + inCluster }, room };
    }
    const room = h.clusterSize - inCluster;
    if (e & QCOW2_L2_ZERO) {
      if (h.version === 2) throw new MalformedError(`L2 entry ${l2Index}: the zero flag is not defined in qcow2 version 2`, entryAt);
      return { piece: { zero: true }, room };
    }
    if (host === 0) return { piece: { zero: true }, room };
    this.checkData(host, entryAt);
    return { piece: { host: host + inCluster }, room };
  }

  /** One L2 table at a time is kept: the VM state is read front to back, so each is loaded once. */
  private async loadL2(l2Offset: number, l1At: number): Promise<void> {
    if (l2Offset === this.l2Offset) return;
    const h = this.h;
    if (l2Offset % h.clusterSize !== 0) throw new MalformedError(`L2 table offset ${l2Offset} is not aligned to the cluster size ${h.clusterSize}`, l1At);
    if (l2Offset + h.clusterSize > this.ra.size) {
      throw new MalformedError(`L2 table at ${l2Offset} runs past the end of the file (${this.ra.size} bytes)`, l1At);
    }
    if (this.overlapsL1(l2Offset, h.clusterSize)) {
      throw new MalformedError(`L2 table at ${l2Offset} overlaps the snapshot's own L1 table (a loop in the tables)`, l1At);
    }
    const bytes = await readExact(this.ra, l2Offset, h.clusterSize, "L2 table");
    this.l2 = new DataView(bytes.buffer);
    this.l2Offset = l2Offset;
  }

  private checkData(host: number, entryAt: number): void {
    const h = this.h;
    if (host % h.clusterSize !== 0) throw new MalformedError(`data cluster offset ${host} is not aligned to the cluster size ${h.clusterSize}`, entryAt);
    if (host >= this.ra.size) throw new MalformedError(`data cluster at ${host} is past the end of the file (${this.ra.size} bytes)`, entryAt);
    if (host === this.l2Offset || this.overlapsL1(host, h.clusterSize)) {
      throw new MalformedError(`data cluster at ${host} is the ${host === this.l2Offset ? "L2" : "L1"} table that maps it (a loop in the tables)`, entryAt);
    }
  }

  private overlapsL1(at: number, len: number): boolean {
    const s = this.snap.l1TableOffset;
    const e = s + this.snap.l1Size * 8;
    return at < e && s < at + len;
  }
}
