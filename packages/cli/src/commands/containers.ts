import { chmodSync, readFileSync } from "node:fs";
import { DETECT_BYTES, detectFormat } from "@vmstream/codecs";
import { RefusedError, type Source, StreamReader, WireError, jsonText } from "@vmstream/framing";
import type { Command, Flags } from "../command.js";
import {
  containerFaults,
  containerKind,
  openContained,
  openRandomAccess,
  qcow2Json,
  qcow2Line,
  snapshotJson,
  snapshotTable,
  withVmState,
} from "../container.js";
import { UsageError } from "../errors.js";
import { codecOf, codecOptions } from "../input.js";
import { openInput, openOutput, withOutput, writeStdout } from "../io.js";
import { printableLine } from "../printable.js";
import { type Ctx, errorLine, guarded } from "../report.js";

/*
 * The commands that exist because of containers: the snapshot listing of
 * `inspect` and `verify` on a qcow2 image without --snapshot, `extract`
 * (the stream inside, byte for byte) and `wrap-save` (a libvirt save image
 * around a stream). Inspect/verify/decode/recode/convert of one snapshot or
 * of a save image's stream go through the ordinary commands (container.ts).
 */

interface Verdict {
  format: string;
  ok: boolean;
  items?: number;
  bytes?: number;
  warnings?: number;
  offset?: number;
  message?: string;
}

/** Detect and verify the stream behind `src`; a fault is a verdict, not an exception. */
async function verdictOf(src: Source, flags: Flags, format: { v: string }): Promise<Verdict> {
  const reader = new StreamReader(src);
  try {
    const found = await codecOf(reader, flags);
    if (!found) return { format: format.v, ok: false, offset: 0, message: "cannot detect the stream format of the VM state" };
    const { codec, version } = found;
    format.v = `${codec.family}@${version}`;
    const strict = flags.strict === true;
    const rep = await codec.verify(reader, version, strict ? { ...codecOptions(flags), strict: true } : codecOptions(flags));
    const warnings = rep.warnings ?? [];
    // As `verify --strict` does for a bare stream: a warning fails it.
    if (strict && warnings.length > 0) return { format: rep.format, ok: false, offset: warnings[0]!.offset, message: warnings[0]!.message };
    return { format: rep.format, ok: true, items: rep.items, bytes: rep.bytes, warnings: warnings.length };
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { format: format.v, ok: false, offset: e.offset, message: e.message };
  } finally {
    await reader.close().catch(() => {});
  }
}

type Snap = import("@vmstream/containers").Qcow2Snapshot;
type Listing = { img: import("@vmstream/containers").Qcow2Image; size: number };

/** Open a qcow2 image and verify each snapshot's VM state; null listing when the image itself was refused. */
async function eachSnapshot(file: string, flags: Flags, command: string, fn: (v: { label: string; snap: Snap; verdict: Verdict }) => void) {
  const ctx: Ctx = { file, command, format: "qcow2" };
  let failed = false;
  let listing: Listing | null = null;
  await guarded(ctx, async () => {
    const { openQcow2 } = await import("@vmstream/containers");
    const ra = await openRandomAccess(file);
    try {
      const img = await openQcow2(ra);
      ctx.format = `qcow2@${img.header.version}`;
      const snaps = withVmState(img);
      listing = { img, size: ra.size }; // shown by inspect even when no snapshot holds a VM state
      if (snaps.length === 0) throw new RefusedError(`qcow2 image has no snapshot with VM state (${img.snapshots.length} snapshots)`, 60);
      for (const snap of snaps) {
        // A fault of the image's tables met while reading is the image's: file, qcow2@N, file offset.
        const where: Ctx = { file: `${file} [snapshot ${snap.id} ${snap.name}]`, format: ctx.format };
        const verdict = await verdictOf(containerFaults(img.vmState(snap), where, file, ctx.format), flags, { v: ctx.format });
        if (where.file === file) verdict.format = ctx.format;
        if (!verdict.ok) failed = true;
        fn({ label: where.file, snap, verdict });
      }
    } finally {
      await ra.close?.();
    }
  });
  return { failed, listing: listing as Listing | null };
}

/** `inspect disk.qcow2`: the image, its snapshot table, and each VM state's verdict. */
export async function inspectSnapshots(file: string, flags: Flags): Promise<void> {
  const rows: { label: string; snap: Snap; verdict: Verdict }[] = [];
  const { failed, listing } = await eachSnapshot(file, flags, "inspect", (r) => rows.push(r));
  if (!listing) return; // the image itself was refused: the contract line is out
  const { img, size } = listing;
  if (flags.json === true) {
    const snapshots = img.snapshots.map((s) => {
      const v = rows.find((r) => r.snap === s)?.verdict;
      return { ...snapshotJson(s), stream: v ?? null };
    });
    await writeStdout(`${jsonText({ container: qcow2Json(img, size), snapshots }, 2)}\n`);
  } else {
    const lines = [qcow2Line(file, img, size), "", ...(img.snapshots.length ? [await snapshotTable(img.snapshots), ""] : [])];
    for (const { snap, verdict: v } of rows) {
      lines.push(
        printableLine(
          `snapshot ${snap.id} ${snap.name}: ${v.format}, ${v.ok ? `valid (${v.items} records, ${v.bytes} bytes)` : `first fault at offset ${v.offset}: ${v.message}`}`,
        ),
      );
    }
    if (rows.length) lines.push("", `(--snapshot ID|NAME shows one VM state in full)`);
    await writeStdout(`${lines.join("\n")}\n`);
  }
  for (const { label, verdict: v } of rows) {
    if (!v.ok) process.stderr.write(`${errorLine({ file: label, format: v.format }, v.offset!, v.message!)}\n`);
  }
  if (failed) process.exitCode = 1;
}

/** `verify disk.qcow2`: every snapshot's VM state, one line each. */
export async function verifySnapshots(file: string, flags: Flags): Promise<void> {
  let out = "";
  const { failed } = await eachSnapshot(file, flags, "verify", ({ label, verdict: v }) => {
    if (v.ok) out += `${label}: ${v.format}: valid (${v.items} records, ${v.bytes} bytes)${v.warnings ? `, ${v.warnings} warning${v.warnings === 1 ? "" : "s"}` : ""}\n`;
    else process.stderr.write(`${errorLine({ file: label, format: v.format }, v.offset!, v.message!)}\n`);
  });
  await writeStdout(out);
  if (failed) process.exitCode = 1;
}

/** `vmstream extract IN [--snapshot S] OUT`: the stored stream, byte for byte. */
export const extract: Command = {
  options: { snapshot: { type: "string" } },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    const ctx: Ctx = { file: inPath!, command: "extract" };
    if (inPath === "-") throw new UsageError("extract reads a container from a file (it seeks), not from standard input");
    await guarded(ctx, async () => {
      if ((await containerKind(inPath!)) === null) {
        throw new RefusedError("not a container: extract reads qcow2 images (internal snapshots) and libvirt save images", 0);
      }
      const sink = await openOutput(outPath!, [inPath!]);
      await withOutput(sink, async (s) => {
        const inner = await openContained(ctx, inPath!, flags, {});
        try {
          const src = inner!.reader.source;
          const buf = new Uint8Array(1 << 20);
          for (;;) {
            const n = await src.read(buf);
            if (n === 0) break;
            await s.write(buf.subarray(0, n));
          }
        } finally {
          await inner!.close();
        }
      });
    });
  },
};

/** A StreamReader drained as a Source (the stream to wrap may come from standard input). */
function readerSource(r: StreamReader): Source {
  return {
    async read(into) {
      if (r.buffered === 0 && !(await r.fill(1))) return 0;
      const n = Math.min(into.byteLength, r.buffered);
      into.set(r.take(n));
      return n;
    },
  };
}

/** `vmstream wrap-save STREAM OUT (--xml F | --like SAVE) [...]`: a libvirt save image around a QEMU stream. */
export const wrapSave: Command = {
  options: {
    xml: { type: "string" },
    cookie: { type: "string" },
    like: { type: "string" },
    compress: { type: "string" },
    paused: { type: "boolean" },
    running: { type: "boolean" },
  },
  positionals: [2, 2],
  async run([inPath, outPath], flags) {
    if (typeof flags.xml !== "string" && typeof flags.like !== "string") throw new UsageError("wrap-save needs --xml DOMAIN.xml or --like SAVE-IMAGE");
    if (flags.paused === true && flags.running === true) throw new UsageError("--paused and --running exclude each other");
    const known = ["raw", "gzip", "bzip2", "xz", "lzop"];
    if (flags.compress !== undefined && !known.includes(flags.compress as string)) throw new UsageError(`--compress is one of ${known.join(", ")}`);
    const ctx: Ctx = { file: inPath!, command: "wrap-save" };
    await guarded(ctx, async () => {
      const { openSaveImage, parseXml, writeSaveImage } = await import("@vmstream/containers");
      const { nodeCompress } = await import("@vmstream/containers/node");
      let xml: string | undefined;
      let cookie: string | null = null;
      let dataLen: number | undefined;
      let wasRunning = 1;
      let compression = "raw";
      if (typeof flags.like === "string") {
        const likeCtx: Ctx = { file: flags.like, command: "wrap-save", format: "libvirt-save" };
        const ra = await openRandomAccess(flags.like);
        try {
          const like = await openSaveImage(ra).catch((e) => {
            if (e instanceof WireError) Object.assign(ctx, likeCtx);
            throw e;
          });
          ({ xml, cookie, wasRunning } = { xml: like.xml, cookie: like.cookie, wasRunning: like.header.wasRunning });
          dataLen = like.header.dataLen;
          compression = like.compression;
        } finally {
          await ra.close?.();
        }
      }
      const readText = (p: string) => {
        try {
          return readFileSync(p, "utf8");
        } catch (e) {
          throw new UsageError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      };
      if (typeof flags.xml === "string") {
        xml = readText(flags.xml);
        dataLen = undefined; // new XML: libvirt's own room after it
        const c = { file: flags.xml, command: "wrap-save", format: "xml" };
        try {
          parseXml(xml, 0, "domain XML");
        } catch (e) {
          if (e instanceof WireError) Object.assign(ctx, c);
          throw e;
        }
      }
      if (typeof flags.cookie === "string") {
        cookie = readText(flags.cookie);
        dataLen = undefined;
      }
      if (flags.paused === true) wasRunning = 0;
      if (flags.running === true) wasRunning = 1;
      if (typeof flags.compress === "string") compression = flags.compress;

      // libvirt restores QEMU streams: anything else (or a container) is refused before writing.
      const reader = await openInput(inPath!);
      try {
        await reader.fill(DETECT_BYTES);
        const head = reader.peek(Math.min(reader.buffered, DETECT_BYTES));
        const found = await detectFormat(head);
        if (found?.codec.family !== "qemu") {
          throw new RefusedError(`a libvirt save image holds a QEMU stream; this input is ${found ? `${found.codec.family}@${found.version}` : "not one"}`, 0);
        }
        ctx.format = `qemu@${found.version}`;
        const sink = await openOutput(outPath!, [inPath!, ...(typeof flags.like === "string" ? [flags.like] : [])]);
        await withOutput(sink, async (s) => {
          await writeSaveImage(s, { xml: xml!, cookie, wasRunning, compression, ...(dataLen !== undefined ? { dataLen } : {}) }, readerSource(reader), nodeCompress);
        });
        // A save image holds guest memory: mode 0600, as libvirt writes it.
        if (outPath !== "-") chmodSync(outPath!, 0o600);
      } finally {
        await reader.close().catch(() => {});
      }
    });
  },
};
