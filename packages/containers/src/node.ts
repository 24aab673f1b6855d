/**
 * Node-only entry point (`@vmstream/containers/node`): files opened
 * read-only for reads at offsets, and the compressions libvirt hands to
 * external programs (xz, bzip2, lzop), run here the same way: the program
 * reads the compressed bytes on stdin and writes the stream on stdout.
 */
import { spawn } from "node:child_process";
import { open } from "node:fs/promises";
import { MalformedError, RefusedError, type Source, chunksSource } from "@vmstream/framing";
import type { RandomAccess } from "./random-access.js";
import { type Transform, webCompress, webDecompress } from "./transform.js";

/** A file opened read-only ("r"): a container is never written through this. */
export async function fileRandomAccess(path: string): Promise<RandomAccess & { close(): Promise<void> }> {
  const fh = await open(path, "r");
  const st = await fh.stat();
  return {
    size: st.size,
    async readAt(offset, into) {
      if (offset >= st.size || into.byteLength === 0) return 0;
      const { bytesRead } = await fh.read(into, 0, Math.min(into.byteLength, st.size - offset), offset);
      return bytesRead;
    },
    async close() {
      await fh.close();
    },
  };
}

/** The programs libvirt runs for each compression (`save_image_format` in qemu.conf). */
const PROGRAMS: Record<string, string> = { xz: "xz", bzip2: "bzip2", lzop: "lzop" };

/** gzip in-process; xz, bzip2 and lzop through `PROG -dc`, as libvirt restores them. */
export const nodeDecompress: Transform = (kind, input, at) => {
  const prog = PROGRAMS[kind];
  if (!prog) return webDecompress(kind, input, at);
  return pipeThrough(prog, ["-dc"], input, (msg, fed) => new MalformedError(`${kind} stream from offset ${at} is corrupt or cut short: ${msg}`, at + fed));
};

/** gzip in-process; xz, bzip2 and lzop through `PROG -c`, as libvirt saves them. */
export const nodeCompress: Transform = (kind, input, at) => {
  const prog = PROGRAMS[kind];
  if (!prog) return webCompress(kind, input, at);
  return pipeThrough(prog, ["-c"], input, (msg) => new RefusedError(`${prog} -c failed: ${msg}`, at));
};

const CHUNK = 256 << 10;

/**
 * Run `prog args`, feeding `input` to its stdin while its stdout is read as a
 * Source. Pipes give backpressure both ways, so memory stays at a few chunks.
 * A missing program is refused with its name; a failing one becomes `fault`
 * with the program's own message.
 */
function pipeThrough(prog: string, args: string[], input: Source, fault: (msg: string, fed: number) => Error): Source {
  const child = spawn(prog, args, { stdio: ["pipe", "pipe", "pipe"] });
  let fed = 0;
  let stderr = "";
  let spawnError: NodeJS.ErrnoException | null = null;
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const exited = new Promise<number | null>((res) => {
    child.on("error", (e) => {
      spawnError = e;
      res(null);
    });
    child.on("close", (code) => res(code));
  });
  child.stdin.on("error", () => {}); // EPIPE when the program stops early: its exit status tells why
  const feeding = (async () => {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await input.read(buf);
      if (n === 0) break;
      fed += n;
      const ok = child.stdin.write(buf.slice(0, n));
      if (!ok) await new Promise<void>((res) => child.stdin.once("drain", res).once("close", res));
      if (child.stdin.destroyed) break;
    }
    child.stdin.end();
  })().catch(() => child.stdin.destroy());
  const failed = (): Error => {
    const e = spawnError as NodeJS.ErrnoException | null;
    if (e?.code === "ENOENT") return new RefusedError(`this image needs the '${prog}' program (libvirt runs it too), which is not installed`, 28);
    return fault(e ? e.message : stderr.trim().split("\n").pop() || `${prog} failed`, fed);
  };
  let done = false;
  // The program's stdout, chunk by chunk; its end counts only when the program exited 0.
  async function* output(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of child.stdout) yield chunk as Buffer;
    } catch {
      done = true;
      await exited;
      throw failed();
    }
    done = true;
    await feeding;
    if ((await exited) !== 0) throw failed();
  }
  const src = chunksSource(output());
  return {
    read: src.read,
    async close() {
      if (!done) {
        done = true;
        child.kill();
      }
      await src.close?.();
      await input.close?.();
    },
  };
}
