/**
 * Writes savevm streams (format 3 or 4) from parser events or from a decoded
 * document. One ByteWriter is reused and flushed to the sink in large pieces.
 */
import { ByteWriter, MalformedError, RefusedError, type Sink } from "@vmstream/framing";
import { QEMU_SECTION, QEMU_VM_FILE_MAGIC, QEMU_VM_SUBSECTIONS_END } from "./constants.js";
import { latin1ToBytes } from "../latin1.js";
import type { ConfigSub, SectionKind } from "./parse.js";
import { SECTION_CODES } from "./parse.js";
import { RamState, writeRamRecord, type RamRecord } from "./ram.js";
import { writeMappedBlock } from "./mapped-ram-writer.js";
import { saveDocument } from "../schema/document-codec.js";
import type { VmsdPlan } from "../schema/plan-types.js";

const FLUSH_AT = 1 << 18;
const ZEROS = new Uint8Array(1 << 20);

export class QemuWriter {
  private readonly w = new ByteWriter(1 << 16);
  readonly ram: RamState;
  written = 0;
  /** mapped-ram: where the stream resumes after the current block's pages (0: not in a block). */
  mappedEnd = 0;
  /** mapped-ram: the current block's name, pages offset and length. */
  mappedBlock: { name: string; pagesOffset: number; length: number; next: number } | null = null;
  constructor(
    private readonly sink: Sink,
    readonly version: number,
    pageSize: number,
  ) {
    this.ram = new RamState(pageSize);
  }
  get v4(): boolean {
    return this.version === 4;
  }

  header(): void {
    this.w.u32be(QEMU_VM_FILE_MAGIC).u32be(this.version);
  }

  config(name: string, subs: readonly ConfigSub[]): void {
    const n = bytesOf(name, "machine name", 0, 65536);
    this.w.u8(QEMU_SECTION.CONFIGURATION).u32be(n.byteLength).bytes(n);
    for (const s of subs) {
      const sn = bytesOf(s.name, "configuration subsection name", 1, 255);
      this.w.u8(QEMU_SECTION.SUBSECTION).u8(sn.byteLength).bytes(sn).u32be(s.version >>> 0).bytes(s.data);
      if (this.v4) this.w.u8(QEMU_VM_SUBSECTIONS_END);
    }
    if (this.v4) this.w.u8(QEMU_VM_SUBSECTIONS_END);
  }

  command(cmd: number, data: Uint8Array, pkg: Uint8Array | null): void {
    if (data.byteLength > 0xffff) throw new MalformedError("command payload above 65535 bytes", 0);
    this.w.u8(QEMU_SECTION.COMMAND).u16be(cmd).u16be(data.byteLength).bytes(data);
    if (pkg) this.w.bytes(pkg);
  }

  section(kind: SectionKind, id: number, idstr: string, instance: number, version: number): void {
    this.w.u8(SECTION_CODES[kind]).u32be(id >>> 0);
    if (kind === "start" || kind === "full") {
      const n = bytesOf(idstr, "idstr", 1, 255);
      this.w.u8(n.byteLength).bytes(n).u32be(instance >>> 0).u32be(version >>> 0);
    }
  }

  async ramRecord(rec: RamRecord): Promise<void> {
    if (rec.mapped?.kind !== "pages" && this.mappedEnd > 0) {
      await this.padTo(this.mappedEnd);
      this.mappedEnd = 0;
      this.mappedBlock = null;
    }
    if (rec.mapped) return writeMappedBlock(this, rec);
    writeRamRecord(this.w, rec, this.ram);
    if (this.w.length >= FLUSH_AT) await this.flush();
  }

  /** Plain RAM records copied through: straight to the sink, not via the ByteWriter. */
  async ramRun(bytes: Uint8Array): Promise<void> {
    await this.flush();
    this.written += bytes.byteLength;
    await this.sink.write(bytes);
  }

  /** Absolute offset of the next byte written. */
  get position(): number {
    return this.written + this.w.length;
  }

  /** Bytes at absolute offset `at`, out of order (mapped-ram pages): only sinks with `writeAt`. */
  async writeAt(at: number, bytes: Uint8Array): Promise<void> {
    if (!this.sink.writeAt) throw new RefusedError("this output cannot be written at file offsets (mapped-ram needs an output file)", 0);
    await this.sink.writeAt(at, bytes);
  }

  /** The ByteWriter, for record writers in other files. */
  get bytes(): ByteWriter {
    return this.w;
  }

  /**
   * Advance to absolute offset `to`: a hole where the sink can leave one
   * (an output file), zeros otherwise.
   */
  async padTo(to: number): Promise<void> {
    let n = to - this.position;
    if (n < 0) throw new MalformedError("mapped-ram layout goes backwards", 0, { expected: `an offset of at least ${this.position}`, found: String(to) });
    if (n === 0) return;
    await this.flush();
    this.written += n;
    if (this.sink.hole) {
      await this.sink.hole(n);
      return;
    }
    while (n > 0) {
      const k = Math.min(n, ZEROS.byteLength);
      await this.sink.write(ZEROS.subarray(0, k));
      n -= k;
    }
  }

  /** A device section body from its document value, by the plan of its vmdesc entry. */
  state(plan: VmsdPlan, value: unknown, path: string): void {
    saveDocument(plan, this.w, value, this.v4, path);
  }

  raw(data: Uint8Array): void {
    this.w.bytes(data);
  }

  footer(id: number): void {
    this.w.u8(QEMU_SECTION.SECTION_FOOTER).u32be(id >>> 0);
  }

  eof(): void {
    this.w.u8(QEMU_SECTION.EOF);
  }

  vmdesc(bytes: Uint8Array): void {
    this.w.u8(QEMU_SECTION.VMDESCRIPTION).u32be(bytes.byteLength).bytes(bytes);
  }

  async maybeFlush(): Promise<void> {
    if (this.w.length >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.w.length === 0) return;
    const v = this.w.finish();
    this.written += v.byteLength;
    await this.sink.write(v);
    this.w.reset();
  }
}

function bytesOf(s: unknown, what: string, min: number, max: number): Uint8Array {
  const b = typeof s === "string" ? latin1ToBytes(s) : null;
  if (!b || b.byteLength < min || b.byteLength > max)
    throw new MalformedError(`${what} must be a string of ${min}-${max} latin1 chars`, 0, { found: JSON.stringify(s) });
  return b;
}
