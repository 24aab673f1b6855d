/**
 * Files: as sources (a regular file seeks for free; a pipe, FIFO or character
 * device opened by name is read sequentially) and as outputs that appear
 * whole or not at all. The pipe reader loads only when a pipe is actually
 * met: a command that reads one file pays nothing for it.
 *
 * Regular files are read and written with synchronous pread(2)/pwrite(2) on
 * the main thread. A CLI has nothing else to do while it waits, and each
 * asynchronous call is a round trip through libuv's thread pool (a few tens
 * of microseconds, far more on a busy two-core machine): a verify that seeks
 * over 512 page records paid that 512 times, and a recode paid a JS copy of
 * every byte into write-behind slots (scripts/bench/performance-notes.md).
 */
import { chmodSync, closeSync, constants, copyFile, fstatSync, ftruncateSync, openSync, read, readSync, renameSync, statSync, truncateSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { RefusedError, type Sink, type Source } from "@vmstream/framing";
import { FileWriter } from "./file-writer.js";

/** A regular file: reads go straight into the caller's buffer; seeks cost nothing. */
/**
 * Regular files are read with plain descriptors (synchronous pread is the fast
 * path), which Node does not watch the way it watches a FileHandle (DEP0137).
 * So a source dropped without close() is closed when it is collected, with a
 * warning: a leak shows up (the README-example test relies on it) instead of
 * holding a descriptor for the life of the process.
 */
const unclosed = new FinalizationRegistry<{ fd: number; path: string }>(({ fd, path }) => {
  try {
    closeSync(fd);
  } catch {
    // Already closed by other means: nothing leaked.
    return;
  }
  process.emitWarning(`a file source of ${path} was garbage-collected without close(); its descriptor ${fd} has been closed`, { code: "VMSTREAM_UNCLOSED_SOURCE" });
});

export async function fileSource(path: string): Promise<Source> {
  const fd = openSync(path, "r");
  let st;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (!st.isFile()) return await fdStreamSource(fd, st);
  const size = st.size;
  let pos = 0;
  let open = true;
  const source: Source = {
    size,
    async read(into) {
      const n = readSync(fd, into, 0, into.byteLength, pos);
      pos += n;
      return n;
    },
    async seek(n) {
      const k = Math.min(n, size - pos);
      pos += k;
      return k;
    },
    async close() {
      if (open) {
        unclosed.unregister(source);
        closeSync(fd);
      }
      open = false;
    },
  };
  unclosed.register(source, { fd, path }, source);
  return source;
}

/** A pipe, FIFO or character device opened as a file: sequential reads only. */
async function fdStreamSource(fd: number, st: ReturnType<typeof fstatSync>): Promise<Source> {
  let open = true;
  const close = async () => {
    if (open) closeSync(fd);
    open = false;
  };
  if (st.isFIFO() || st.isSocket()) {
    const { pipeSource } = await import("./pipe-source.js");
    return pipeSource(fd, () => asyncSource(fd, close), close);
  }
  return asyncSource(fd, close);
}

/** Reads through the thread pool: for descriptors that may block for long (a terminal, a non-blocking pipe). */
function asyncSource(fd: number, close: () => Promise<void>): Source {
  return {
    read: (into) =>
      new Promise((resolve, reject) => {
        read(fd, into, 0, into.byteLength, null, (e, n) => (e ? reject(e) : resolve(n)));
      }),
    close,
  };
}

/**
 * `.NAME.tmp-PID-XXXXXXXX` beside `path`: hidden, on the same file system (so
 * the rename into place is atomic), and unique enough with O_EXCL by pid, time
 * and Math.random (no node:crypto: loading it cost every command ~10 ms).
 */
export function tmpName(path: string): string {
  const r = ((Math.random() * 0x1_0000_0000) ^ Date.now()) >>> 0;
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${r.toString(16).padStart(8, "0")}`);
}

/**
 * Writes to a temporary file beside `path` and renames it over `path` on close,
 * so a reader never sees a half-written output; abort removes the temporary.
 */
export async function atomicFileSink(path: string): Promise<Sink> {
  const tmp = tmpName(path);
  const fd = openSync(tmp, "wx", 0o644);
  const out = new FileWriter(fd);
  let done = false;
  let fdOpen = true;
  const closeFd = () => {
    if (fdOpen) closeSync(fd);
    fdOpen = false;
  };
  const discard = () => {
    try {
      closeFd();
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
  };
  return {
    write(chunk) {
      if (done) throw new Error("write after close");
      out.write(chunk);
    },
    hole: (n) => out.hole(n),
    async writeAt(pos, chunk) {
      out.writeAt(pos, chunk);
    },
    coalesces: true,
    async close() {
      if (done) return;
      done = true;
      // Any failure up to and including the rename removes the temporary: no leftovers.
      try {
        out.flush();
        // A hole at the very end has no byte after it to give the file its size.
        if (out.holes) ftruncateSync(fd, out.position);
        closeFd();
        renameSync(tmp, path);
      } catch (e) {
        discard();
        throw e;
      }
    },
    async abort() {
      if (done) return;
      done = true;
      discard();
    },
  };
}

/**
 * `path`'s first bytes copied to `to` atomically by the kernel (a reflink
 * where the file system shares blocks, else copy_file_range: no byte passes
 * through this process), in the thread pool while `check` reads `path` on
 * this thread. `check` returns how many bytes the output keeps (what a
 * pass-through would have written) or throws; then nothing is published.
 * A copy of a file that changed while it was checked is refused: the output
 * is what was checked or nothing.
 */
export async function atomicCopy(path: string, to: string, check: () => Promise<number>): Promise<void> {
  const before = statSync(path);
  const tmp = tmpName(to);
  // The mode every new output gets (0644 less the umask), learnt from a file made and removed under the
  // temporary's name, which the copy then creates afresh (O_EXCL). Copying over an existing file would
  // truncate it first, and ext4 then flushes the file when it is closed (auto_da_alloc): 55 ms for 256 MiB.
  const fd = openSync(tmp, "wx", 0o644);
  const mode = fstatSync(fd).mode;
  closeSync(fd);
  unlinkSync(tmp);
  const flags = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE;
  const copied = new Promise<void>((resolve, reject) => copyFile(path, tmp, flags, (e) => (e ? reject(e) : resolve())));
  try {
    const keep = await check();
    await copied;
    const after = statSync(path);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ino !== before.ino) {
      throw new RefusedError(`${path} changed while it was read: nothing written`, before.size);
    }
    if (keep !== after.size) truncateSync(tmp, keep);
    chmodSync(tmp, mode);
    renameSync(tmp, to);
  } catch (e) {
    // The copy opens the temporary by name: it is removed only once the copy has let go of it.
    await copied.catch(() => {});
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}
