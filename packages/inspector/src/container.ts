/**
 * Containers in the browser: a qcow2 image with internal snapshots or a
 * libvirt save image, read from the `File` with `Blob.slice` (never whole),
 * through the same @vmstream/containers code the CLI runs. The worker
 * describes the container and reads the stream inside; the page reads small
 * windows of that stream for the hex view. Both sides open the container
 * themselves (a header and a table: a few KiB), so only plain data crosses.
 */
import {
  CONTAINER_DETECT_BYTES,
  type Qcow2Image,
  type SaveImage,
  blobRandomAccess,
  detectContainer,
  openQcow2,
  openSaveImage,
  snapshotDate,
  vmClock,
} from "@vmstream/containers";
import { RefusedError, type Source } from "@vmstream/framing";
import type { ContainerInfo, Inner, SnapshotRow } from "./protocol.js";

/** What the platform decompresses (DecompressionStream); the others need the vmstream command line. */
const BROWSER_COMPRESSIONS = new Set(["raw", "gzip"]);

/** The container a file's first bytes announce, or null (a bare stream). */
export async function containerOf(file: Blob): Promise<"qcow2" | "libvirt-save" | null> {
  return detectContainer(new Uint8Array(await file.slice(0, CONTAINER_DETECT_BYTES).arrayBuffer()));
}

/**
 * The container's header and table as the page shows them. A fault of the
 * container itself (a broken header or table) is thrown as the WireError it
 * is, with its file offset; `format` is set first so the fault can name it.
 */
export async function describeContainer(file: Blob, kind: "qcow2" | "libvirt-save", format: { v: string }): Promise<ContainerInfo> {
  const ra = blobRandomAccess(file);
  if (kind === "qcow2") {
    format.v = "qcow2";
    const img = await openQcow2(ra);
    format.v = `qcow2@${img.header.version}`;
    return qcow2Info(img, file.size);
  }
  format.v = "libvirt-save";
  const img = await openSaveImage(ra);
  format.v = `libvirt-save@${img.header.version}`;
  return saveInfo(img, file.size);
}

const n = (x: number) => x.toLocaleString("en-US");
function qcow2Info(img: Qcow2Image, fileSize: number): ContainerInfo {
  const h = img.header;
  const flags = [h.extendedL2 ? "extended L2" : "", h.dirty ? "dirty" : "", h.corrupt ? "marked corrupt" : "", h.hasBackingFile ? "has a backing file" : ""].filter(Boolean);
  const snapshots: SnapshotRow[] = img.snapshots.map((s) => ({
    id: s.id,
    name: s.name,
    date: snapshotDate(s.date.sec),
    clock: vmClock(s.vmClockNsec),
    vmStateSize: s.vmStateSize,
    vmStateOffset: s.vmStateOffset,
    icount: s.icount < 0n ? "-" : String(s.icount),
  }));
  return {
    kind: "qcow2",
    format: `qcow2@${h.version}`,
    title: `qcow2 version ${h.version} image, ${n(fileSize)} bytes, ${h.clusterSize / 1024} KiB clusters, virtual size ${n(h.size)} bytes${flags.length ? `, ${flags.join(", ")}` : ""}; ${img.snapshots.length} internal snapshot${img.snapshots.length === 1 ? "" : "s"}`,
    lines: [],
    snapshots,
  };
}

function saveInfo(img: SaveImage, fileSize: number): ContainerInfo {
  const h = img.header;
  const d = img.domain;
  const lines: [string, string][] = [
    ["domain", `${d.name ?? "?"}${d.type ? ` (type ${d.type})` : ""}`],
    ["uuid", d.uuid ?? "?"],
    ["machine", `${d.machine ?? "?"}${d.arch ? ` (${d.arch})` : ""}`],
    ["memory", d.memoryBytes !== undefined ? `${n(d.memoryBytes / (1 << 20))} MiB` : "?"],
    ["was_running", `${h.wasRunning} (${h.wasRunning ? "restored running" : "restored paused"})`],
    ["compression", `${img.compression} (${h.compressed})`],
    ["XML", `${n(img.xml.length)} characters at 92${img.cookie !== null ? `, cookie at ${92 + h.cookieOffset}` : ", no cookie"}, data_len ${n(h.dataLen)}`],
    ["stream", `at ${img.streamOffset}, ${n(img.streamBytes)} bytes${img.compression === "raw" ? "" : ` (${img.compression})`}`],
  ];
  if (img.xmlFault) lines.push(["XML fault", `offset ${img.xmlFault.offset}: ${img.xmlFault.message}`]);
  const refused = BROWSER_COMPRESSIONS.has(img.compression)
    ? undefined
    : `${img.compression}-compressed save images cannot be read in the browser (it decompresses gzip only): run 'vmstream inspect FILE', which runs '${img.compression} -dc' as libvirt does`;
  return {
    kind: "libvirt-save",
    format: `libvirt-save@${h.version}`,
    title: `libvirt save image version ${h.version}, ${n(fileSize)} bytes${h.partial ? " — INCOMPLETE (magic LibvirtQemudPart: the save did not finish)" : ""}`,
    lines,
    xml: img.xml,
    ...(img.cookie !== null ? { cookie: img.cookie } : {}),
    streamOffset: img.streamOffset,
    compression: img.compression,
    ...(refused ? { refused } : {}),
  };
}

/** How error lines and the page name the stream inside: `disk.qcow2 [snapshot 1 snap-a]`. */
export function innerLabel(name: string, info: ContainerInfo, inner: Inner): string {
  if (inner.kind === "qcow2") {
    const s = info.snapshots?.find((x) => x.id === inner.snapshot);
    return `${name} [snapshot ${inner.snapshot}${s ? ` ${s.name}` : ""}]`;
  }
  return `${name} [${info.compression === "raw" ? "" : `${info.compression}-compressed `}QEMU stream at ${info.streamOffset}]`;
}

/** The stream inside, as a Source every codec reads: the snapshot's VM state (seekable) or the save image's stream (gzip decompressed on the fly). */
export async function openInner(file: Blob, inner: Inner): Promise<{ source: Source; size: number | undefined }> {
  const ra = blobRandomAccess(file);
  if (inner.kind === "qcow2") {
    const img = await openQcow2(ra);
    const snap = img.snapshots.find((s) => s.id === inner.snapshot);
    if (!snap) throw new Error(`no snapshot with id ${inner.snapshot}`);
    const source = img.vmState(snap);
    return { source, size: source.size };
  }
  const img = await openSaveImage(ra);
  return { source: img.stream(), size: img.compression === "raw" ? img.streamBytes : undefined };
}

/** Bytes the hex view shows: a window at a time. */
export interface HexBytes {
  /** Total bytes, when known (a compressed stream's is known only once read). */
  size: number | undefined;
  read(start: number, end: number): Promise<Uint8Array>;
}

export const blobBytes = (b: Blob): HexBytes => ({ size: b.size, read: async (s, e) => new Uint8Array(await b.slice(s, e).arrayBuffer()) });

/**
 * Windows of the stream inside a container. A qcow2 VM state and a raw save
 * image's stream are read at the window (a forward seek costs nothing); a
 * gzip stream has no seek: it is read on from where the last window ended.
 * Going back opens the stream again (the snapshot's tables are a few KiB;
 * gzip is decompressed again from its start).
 */
export function innerBytes(file: Blob, info: ContainerInfo, inner: Inner): HexBytes {
  if (inner.kind === "libvirt-save" && info.compression === "raw") return blobBytes(file.slice(info.streamOffset!));
  let open: { source: Source; size: number | undefined; pos: number } | undefined;
  const size = inner.kind === "qcow2" ? info.snapshots?.find((x) => x.id === inner.snapshot)?.vmStateSize : undefined;
  return {
    size,
    async read(start, end) {
      if (!open || open.pos > start) {
        await open?.source.close?.();
        open = { ...(await openInner(file, inner)), pos: 0 };
      }
      const src = open.source;
      if (src.seek) open.pos += await src.seek(start - open.pos);
      const skip = new Uint8Array(64 << 10);
      while (open.pos < start) {
        const k = await src.read(skip.subarray(0, Math.min(skip.byteLength, start - open.pos)));
        if (k === 0) return new Uint8Array(0);
        open.pos += k;
      }
      const out = new Uint8Array(end - start);
      let got = 0;
      while (got < out.byteLength) {
        const k = await src.read(out.subarray(got));
        if (k === 0) break;
        got += k;
      }
      open.pos += got;
      return out.subarray(0, got);
    },
  };
}

/**
 * The stream a diff reads from a file: null for a bare stream; the only
 * snapshot with a VM state of a qcow2 image (several: refused, naming them,
 * since a diff has no place to pick one); a save image's stream.
 */
export async function streamToCompare(file: File): Promise<Inner | null> {
  const kind = await containerOf(file);
  if (kind === null) return null;
  const ra = blobRandomAccess(file);
  if (kind === "qcow2") {
    const img = await openQcow2(ra);
    const snaps = img.snapshots.filter((s) => s.vmStateSize > 0);
    if (snaps.length === 1) return { kind: "qcow2", snapshot: snaps[0]!.id };
    const list = snaps.map((s) => `${s.id} ${s.name}`).join(", ");
    throw new RefusedError(`${file.name} is a qcow2 image with ${snaps.length} snapshots holding a VM state${list ? ` (${list})` : ""}: open it alone to pick one`, img.header.snapshotsOffset);
  }
  const img = await openSaveImage(ra);
  if (!BROWSER_COMPRESSIONS.has(img.compression)) {
    throw new RefusedError(`${file.name}: ${img.compression}-compressed save images cannot be read in the browser (it decompresses gzip only): run 'vmstream diff'`, 28);
  }
  return { kind: "libvirt-save" };
}

/**
 * A Source opened on its first read: the diff asks for its readers
 * synchronously, and the stream inside a container is opened asynchronously.
 * A skip on a stream without seeks (gzip) reads through.
 */
export function lazySource(open: () => Promise<Source>, size: number | undefined): Source {
  let src: Promise<Source> | undefined;
  const get = () => (src ??= open());
  let scratch: Uint8Array | undefined;
  return {
    ...(size !== undefined ? { size } : {}),
    read: async (into) => (await get()).read(into),
    async seek(n) {
      const s = await get();
      if (s.seek) return s.seek(n);
      scratch ??= new Uint8Array(64 << 10);
      let done = 0;
      while (done < n) {
        const k = await s.read(scratch.subarray(0, Math.min(scratch.byteLength, n - done)));
        if (k === 0) break;
        done += k;
      }
      return done;
    },
    async close() {
      if (src) await (await src).close?.();
    },
  };
}
