import { openSync, readSync, closeSync, statSync } from "node:fs";
import { RefusedError, type Source, StreamReader, type StreamReaderOptions, WireError } from "@vmstream/framing";
import type {
  ContainerKind,
  Qcow2Image,
  Qcow2Snapshot,
  RandomAccess,
  SaveImage,
} from "@vmstream/containers";
import type { Flags } from "./command.js";
import { UsageError } from "./errors.js";
import type { Ctx } from "./report.js";

/*
 * Containers (qcow2 images with internal snapshots, libvirt save images) are
 * recognised before any stream codec: the stream inside is then handed to the
 * codecs as if it were a file of its own. Everything container-specific the
 * command line does lives here and in commands/containers.ts, so detection of
 * stream formats (formats.ts, load.ts) is untouched.
 */

/** "QFI\xfb" or "LibvirtQemud…": a cheap pre-check before the package's own detection. */
function maybeContainer(h: Uint8Array): boolean {
  if (h.length >= 4 && h[0] === 0x51 && h[1] === 0x46 && h[2] === 0x49 && h[3] === 0xfb) return true;
  return h.length >= 16 && String.fromCharCode(...h.subarray(0, 12)) === "LibvirtQemud";
}

/** The container kind a file announces, or null (also for '-', directories, unreadable files). */
export async function containerKind(path: string): Promise<ContainerKind | null> {
  if (path === "-") return null;
  let fd: number;
  try {
    if (!statSync(path).isFile()) return null;
    fd = openSync(path, "r");
  } catch {
    return null; // reported by the ordinary open, with its errno
  }
  try {
    const head = new Uint8Array(16);
    const n = readSync(fd, head, 0, 16, 0);
    // Most inputs are bare streams: the containers package is loaded only when a container magic may be there.
    if (!maybeContainer(head.subarray(0, n))) return null;
    const { detectContainer } = await import("@vmstream/containers");
    return detectContainer(head.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}

/** True when a head read from standard input is a container's (they need a file). */
export async function containerOnStdin(head: Uint8Array): Promise<boolean> {
  if (!maybeContainer(head.subarray(0, 16))) return false;
  const { detectContainer } = await import("@vmstream/containers");
  return detectContainer(head) !== null;
}

export interface Contained {
  reader: StreamReader;
  /** Bytes of the stream inside (undefined for a compressed one). */
  size: number | undefined;
  /** How the error line names the input: `disk.qcow2 [snapshot 1 snap-a]`. */
  label: string;
  /** What is shown above the stream by inspect. */
  summary: { text: string; json: unknown };
  close(): Promise<void>;
}

/** Open a file read-only for reads at offsets; errors are usage errors, like any unreadable input. */
export async function openRandomAccess(path: string): Promise<RandomAccess> {
  const { fileRandomAccess } = await import("@vmstream/containers/node");
  try {
    return await fileRandomAccess(path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * The container's own faults met while the stream is read (a broken L2 table,
 * a cut compressed stream) carry file offsets: the error line then names the
 * file and the container, not the stream inside.
 */
export function containerFaults(src: Source, ctx: Ctx, path: string, format: string): Source {
  const own = (e: unknown) => {
    if (e instanceof WireError) {
      ctx.file = path;
      ctx.format = format;
    }
    return e;
  };
  return {
    ...(src.size !== undefined ? { size: src.size } : {}),
    read: (into) => src.read(into).catch((e) => Promise.reject(own(e))),
    ...(src.seek ? { seek: (n: number) => src.seek!(n).catch((e) => Promise.reject(own(e))) } : {}),
    ...(src.close ? { close: () => src.close!() } : {}),
  };
}

/** The snapshots that hold VM state (a disk-only snapshot has none). */
export const withVmState = (img: Qcow2Image): Qcow2Snapshot[] => img.snapshots.filter((s) => s.vmStateSize > 0);

/** `--snapshot ID|NAME`, or the only snapshot with VM state; otherwise a usage error listing them. */
export async function pickSnapshot(path: string, img: Qcow2Image, ref: string | undefined): Promise<Qcow2Snapshot> {
  const { findSnapshot } = await import("@vmstream/containers");
  if (ref !== undefined) return findSnapshot(img, ref);
  const all = withVmState(img);
  if (all.length === 1) return all[0]!;
  if (all.length === 0) throw new RefusedError(`qcow2 image has no snapshot with VM state (${img.snapshots.length} snapshots)`, 60);
  throw new UsageError(`${path} has ${all.length} snapshots with VM state (${all.map((s) => `${s.id} ${s.name}`).join(", ")}): pick one with --snapshot ID|NAME`);
}

/**
 * When `path` is a container, open the stream inside it (the selected
 * snapshot's VM state, or a save image's QEMU stream, decompressed on the fly)
 * and describe the container; null for anything else. `ctx.format` names the
 * container while its own tables are read, so their faults say so.
 */
export async function openContained(ctx: Ctx, path: string, flags: Flags, opts: StreamReaderOptions): Promise<Contained | null> {
  const kind = await containerKind(path);
  if (typeof flags.snapshot === "string" && kind !== "qcow2") {
    throw new UsageError("--snapshot selects a snapshot of a qcow2 image; this input is not one");
  }
  if (kind === null) return null;
  const ra = await openRandomAccess(path);
  try {
    const c = kind === "qcow2" ? await openSnapshot(ctx, path, flags, ra, opts) : await openSave(ctx, path, flags, ra, opts);
    return { ...c, close: async () => { await c.reader.close().catch(() => {}); await ra.close?.(); } };
  } catch (e) {
    await ra.close?.();
    throw e;
  }
}

async function openSnapshot(ctx: Ctx, path: string, flags: Flags, ra: RandomAccess, opts: StreamReaderOptions) {
  const { openQcow2 } = await import("@vmstream/containers");
  ctx.format = "qcow2";
  const img = await openQcow2(ra);
  ctx.format = `qcow2@${img.header.version}`;
  const snap = await pickSnapshot(path, img, typeof flags.snapshot === "string" ? flags.snapshot : undefined);
  const src = containerFaults(img.vmState(snap), ctx, path, ctx.format);
  const label = `${path} [snapshot ${snap.id} ${snap.name}]`;
  ctx.file = label;
  const text = `${qcow2Line(path, img, ra.size)}\n${await snapshotTable([snap])}\n`;
  return {
    reader: new StreamReader(src, opts),
    size: snap.vmStateSize,
    label,
    summary: { text, json: { container: qcow2Json(img, ra.size), snapshot: snapshotJson(snap) } },
  };
}

async function openSave(ctx: Ctx, path: string, flags: Flags, ra: RandomAccess, opts: StreamReaderOptions) {
  const { openSaveImage, checkSaveImage } = await import("@vmstream/containers");
  const { nodeDecompress } = await import("@vmstream/containers/node");
  ctx.format = "libvirt-save";
  const img = await openSaveImage(ra);
  ctx.format = `libvirt-save@${img.header.version}`;
  if (ctx.command === "verify") checkSaveImage(img);
  const label = `${path} [${img.compression === "raw" ? "" : `${img.compression}-compressed `}QEMU stream at ${img.streamOffset}]`;
  ctx.file = label;
  return {
    reader: new StreamReader(containerFaults(img.stream(nodeDecompress), ctx, path, ctx.format), opts),
    size: img.compression === "raw" ? img.streamBytes : undefined,
    label,
    summary: { text: saveText(path, img, ra.size, flags.xml === true), json: { container: saveJson(img, ra.size, flags.xml === true) } },
  };
}

/**
 * A second reader of the same stream (`convert --layout` reads a mapped-ram
 * file twice): the stream inside the container again, or null for a file
 * that is no container. Closing it closes the container too.
 */
export async function reopenContained(path: string, flags: Flags): Promise<StreamReader | null> {
  const inner = await openContained({ file: path }, path, flags, {});
  if (!inner) return null;
  const src = inner.reader.source;
  return new StreamReader({
    ...(src.size !== undefined ? { size: src.size } : {}),
    read: (into) => src.read(into),
    ...(src.seek ? { seek: (k: number) => src.seek!(k) } : {}),
    close: () => inner.close(),
  });
}

const n = (x: number) => x.toLocaleString("en-US");
const kib = (x: number) => (x >= 1 << 20 && x % (1 << 20) === 0 ? `${x / (1 << 20)} MiB` : x >= 1024 && x % 1024 === 0 ? `${x / 1024} KiB` : `${n(x)} bytes`);

export function qcow2Line(path: string, img: Qcow2Image, fileSize: number): string {
  const h = img.header;
  const flags = [h.extendedL2 ? "extended L2" : "", h.dirty ? "dirty" : "", h.corrupt ? "marked corrupt" : "", h.hasBackingFile ? "has a backing file" : ""].filter(Boolean);
  return `${path}: qcow2 version ${h.version} image, ${n(fileSize)} bytes, ${kib(h.clusterSize)} clusters, virtual size ${kib(h.size)}${flags.length ? `, ${flags.join(", ")}` : ""}; ${img.snapshots.length} internal snapshot${img.snapshots.length === 1 ? "" : "s"}`;
}

/** The snapshot table (loads @vmstream/containers for its formatters, as everything here loads it: on use). */
export async function snapshotTable(snaps: Qcow2Snapshot[]): Promise<string> {
  const { snapshotDate, vmClock } = await import("@vmstream/containers");
  const rows = [["id", "name", "date", "VM clock", "VM state", "icount", "VM state at"]];
  for (const s of snaps) {
    rows.push([s.id, s.name, snapshotDate(s.date.sec), vmClock(s.vmClockNsec), s.vmStateSize ? `${n(s.vmStateSize)} B` : "none", s.icount < 0n ? "-" : String(s.icount), s.vmStateSize ? `guest ${kib(s.vmStateOffset)}` : "-"]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(w[i]!)).join("  ")}`.trimEnd()).join("\n");
}

export function snapshotJson(s: Qcow2Snapshot) {
  return {
    id: s.id,
    name: s.name,
    date: { sec: s.date.sec, nsec: s.date.nsec },
    vmClockNsec: String(s.vmClockNsec),
    vmStateSize: s.vmStateSize,
    vmStateOffset: s.vmStateOffset,
    diskSize: s.diskSize,
    icount: String(s.icount),
    l1TableOffset: s.l1TableOffset,
    l1Size: s.l1Size,
    entryOffset: s.entryOffset,
  };
}

export function qcow2Json(img: Qcow2Image, fileSize: number) {
  const h = img.header;
  return {
    kind: "qcow2",
    version: h.version,
    fileSize,
    clusterSize: h.clusterSize,
    virtualSize: h.size,
    extendedL2: h.extendedL2,
    dirty: h.dirty,
    corrupt: h.corrupt,
    backingFile: h.hasBackingFile,
    incompatibleFeatures: `0x${h.incompatibleFeatures.toString(16)}`,
    snapshots: img.snapshots.length,
  };
}

function saveText(path: string, img: SaveImage, fileSize: number, withXml: boolean): string {
  const h = img.header;
  const d = img.domain;
  const lines = [
    `${path}: libvirt save image version ${h.version}, ${n(fileSize)} bytes${h.partial ? " — INCOMPLETE (magic LibvirtQemudPart: the save did not finish)" : ""}`,
    `  domain       ${d.name ?? "?"}${d.type ? ` (type ${d.type})` : ""}`,
    `  uuid         ${d.uuid ?? "?"}`,
    `  machine      ${d.machine ?? "?"}${d.arch ? ` (${d.arch})` : ""}`,
    `  memory       ${d.memoryBytes !== undefined ? kib(d.memoryBytes) : "?"}`,
    `  was_running  ${h.wasRunning} (${h.wasRunning ? "restored running" : "restored paused"})`,
    `  compression  ${img.compression} (${h.compressed})`,
    `  XML          ${n(img.xml.length)} characters at 92${img.cookie !== null ? `, cookie at ${92 + h.cookieOffset}` : ", no cookie"}, data_len ${n(h.dataLen)}`,
    `  stream       at ${img.streamOffset}, ${n(img.streamBytes)} bytes${img.compression === "raw" ? "" : ` (${img.compression})`}`,
  ];
  if (img.xmlFault) lines.push(`  XML fault    offset ${img.xmlFault.offset}: ${img.xmlFault.message}`);
  if (withXml) lines.push("", img.xml.replace(/\n+$/, ""), ...(img.cookie !== null ? ["", img.cookie.replace(/\n+$/, "")] : []));
  return `${lines.join("\n")}\n`;
}

function saveJson(img: SaveImage, fileSize: number, withXml: boolean) {
  const h = img.header;
  return {
    kind: "libvirt-save",
    version: h.version,
    partial: h.partial,
    fileSize,
    dataLen: h.dataLen,
    wasRunning: h.wasRunning,
    compression: img.compression,
    cookieOffset: h.cookieOffset,
    streamOffset: img.streamOffset,
    streamBytes: img.streamBytes,
    domain: img.domain,
    xmlFault: img.xmlFault ? { offset: img.xmlFault.offset, message: img.xmlFault.message } : null,
    ...(withXml ? { xml: img.xml, cookie: img.cookie } : {}),
  };
}


