/**
 * Loading a description straight from a StreamReader. VMState data carries no
 * length, so the interpreter runs over the buffered window and, when it runs
 * past the window's end (a field or a subsection peek), the window grows and
 * the run starts again. Memory follows what the section really holds, never
 * a length read from the stream.
 */
import { ByteReader, LimitError, type StreamReader, TruncatedError } from "@vmstream/framing";
import type { LoadOptions } from "./api.js";
import { compileVmsd } from "./plan.js";
import { loadVmsd } from "./run.js";
import type { State, Vmsd } from "./types.js";

export interface StreamLoadOptions extends Omit<LoadOptions, "base"> {
  /** First window size in bytes (default 4 KiB). */
  initialWindow?: number;
  /** Largest window before giving up with a LimitError (default 128 MiB). */
  maxWindow?: number;
}

/** Load one description from `sr`, consuming exactly its bytes. */
export async function loadStateFrom(schema: Vmsd, sr: StreamReader, opts: StreamLoadOptions = {}): Promise<State> {
  const plan = compileVmsd(schema);
  const max = opts.maxWindow ?? 128 << 20;
  let want = Math.min(opts.initialWindow ?? 4096, max);
  for (;;) {
    const more = await sr.fill(want);
    const have = sr.buffered;
    const r = new ByteReader(sr.peek(have), sr.offset);
    const target: State = opts.current ? { ...opts.current } : {};
    try {
      // At the real end of the stream a short peek means what it means in QEMU.
      loadVmsd(plan, r, opts.version ?? schema.version, target, { format: opts.format ?? 3, depth: 0, windowed: more }, true);
    } catch (e) {
      if (more && e instanceof TruncatedError && e.offset + e.needed >= sr.offset + have) {
        if (want >= max) throw new LimitError(`${schema.name} state larger than ${max} bytes`, sr.offset);
        want = Math.min(max, Math.max(want * 2, e.offset + e.needed - sr.offset));
        continue;
      }
      throw e;
    }
    sr.take(r.pos);
    return target;
  }
}
