import { closeSync, openSync, writeSync } from "node:fs";

/**
 * A synchronous, buffered file writer for generators: they produce hundreds of
 * MiB and must not hold them in memory, and sync writes keep them simple.
 */
export class FileWriter {
  constructor(path, size = 8 << 20) {
    this.fd = openSync(path, "w");
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
    this.used = 0;
    this.length = 0;
  }
  /** Room for `n` more bytes in the buffer; returns the write offset into `buf`. */
  reserve(n) {
    if (this.used + n > this.buf.byteLength) this.flush();
    if (n > this.buf.byteLength) throw new Error(`piece of ${n} bytes is larger than the buffer`);
    const at = this.used;
    this.used += n;
    this.length += n;
    return at;
  }
  bytes(b) {
    if (b.byteLength > this.buf.byteLength >>> 1) {
      this.flush();
      writeSync(this.fd, b);
      this.length += b.byteLength;
      return;
    }
    this.buf.set(b, this.reserve(b.byteLength));
  }
  u8(v) {
    this.buf[this.reserve(1)] = v;
  }
  u16(v, le = true) {
    this.dv.setUint16(this.reserve(2), v, le);
  }
  u32(v, le = true) {
    this.dv.setUint32(this.reserve(4), v >>> 0, le);
  }
  u64(v, le = true) {
    this.dv.setBigUint64(this.reserve(8), BigInt(v), le);
  }
  zeros(n) {
    this.buf.fill(0, this.reserve(n), this.used);
  }
  flush() {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
    return this.length;
  }
}
