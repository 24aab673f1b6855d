import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Adjacent page writes are gathered into one positional write of up to this many bytes. */
const GATHER = 1 << 20;

/** A file written at offsets under a temporary name, renamed into place when complete. */
export class PositionalFile {
  private pending = new Uint8Array(GATHER);
  private at = -1;
  private len = 0;
  size = 0;
  private constructor(
    private readonly fh: FileHandle,
    readonly tmp: string,
    readonly path: string,
  ) {}

  static async create(path: string): Promise<PositionalFile> {
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    return new PositionalFile(await open(tmp, "wx+", 0o644), tmp, path);
  }

  /** Gathered into the pending buffer when it extends it (no promise); otherwise a flush to wait for. */
  write(pos: number, data: Uint8Array): Promise<void> | void {
    this.size = Math.max(this.size, pos + data.byteLength);
    if (this.len > 0 && pos === this.at + this.len && this.len + data.byteLength <= GATHER) {
      this.pending.set(data, this.len);
      this.len += data.byteLength;
      return;
    }
    return this.restart(pos, data);
  }

  private async restart(pos: number, data: Uint8Array): Promise<void> {
    await this.flush();
    if (data.byteLength > GATHER) return this.put(pos, data);
    this.at = pos;
    this.pending.set(data, 0);
    this.len = data.byteLength;
  }

  async read(pos: number, n: number): Promise<Uint8Array> {
    await this.flush();
    const out = new Uint8Array(n);
    const { bytesRead } = await this.fh.read(out, 0, n, pos);
    out.fill(0, bytesRead);
    return out;
  }

  private async put(pos: number, data: Uint8Array): Promise<void> {
    for (let off = 0; off < data.byteLength; ) {
      const { bytesWritten } = await this.fh.write(data, off, data.byteLength - off, pos + off);
      off += bytesWritten;
    }
  }

  private async flush(): Promise<void> {
    if (this.len === 0) return;
    await this.put(this.at, this.pending.subarray(0, this.len));
    this.len = 0;
  }

  /** Give the file its full size (a hole at the end has no byte to give it) and close it. */
  async finish(size = this.size): Promise<void> {
    await this.flush();
    await this.fh.truncate(size);
    await this.fh.close();
  }

  async discard(): Promise<void> {
    await this.fh.close().catch(() => {});
    rmSync(this.tmp, { force: true });
  }
}
