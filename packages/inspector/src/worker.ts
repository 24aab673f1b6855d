/**
 * The parsing worker: every byte of a stream is read here, from `File.stream()`
 * through framing's `webStreamSource` (see file-source.ts), so a 1 GiB stream
 * neither blocks the page nor sits whole in memory. The page only ever slices
 * small windows for the hex view.
 */
import { type CodecOptions, type FamilyCodec, RefusedError, type Source, StreamReader, WireError, jsonText } from "@vmstream/framing";
import { DETECT_BYTES, codecFor, detect, familyTitle, parseFormat } from "@vmstream/codecs/all";
import { walkPageRuns } from "@vmstream/vmstate";
import { containerOf, describeContainer, lazySource, openInner, streamToCompare } from "./container.js";
import { diffFiles } from "./diff.js";
import { fileSource } from "./file-source.js";
import { PageMapBuilder } from "./page-map.js";
import type { Inner, Reply, Request } from "./protocol.js";

const post = (r: Reply) => (self as unknown as { postMessage(m: Reply): void }).postMessage(r);

/** Codec JSON may hold bigint and Uint8Array: give the page the lossless JSON form. */
const plain = (v: unknown): unknown => JSON.parse(jsonText(v));

/** A reader that posts progress a few times a second; `label` names the pass (diff). */
function streamReader(req: Request, source: Source, size: number, label?: string): StreamReader {
  let last = 0;
  return new StreamReader(source, {
    onProgress(offset) {
      const now = Date.now();
      if (now - last < 100) return; // a few updates a second are plenty
      last = now;
      post({ id: req.id, kind: "progress", offset, size, ...(label ? { label } : {}) });
    },
  });
}

/** The file's bytes, or those of the stream inside the container it is (`req.inner`). */
async function reader(req: Request): Promise<StreamReader> {
  if (!req.inner) return streamReader(req, fileSource(req.file), req.file.size);
  const inner = await openInner(req.file, req.inner);
  // A compressed stream's size is not known before it is read: progress then counts bytes only.
  return streamReader(req, containerFaults(inner.source), inner.size ?? 0);
}

/** Faults thrown by the container's own reads carry file offsets: marked, so the page names the file (as the CLI does). */
const OWN = new WeakSet<object>();
function containerFaults(src: Source): Source {
  const own = (e: unknown) => {
    if (e instanceof WireError) OWN.add(e);
    return Promise.reject(e);
  };
  return {
    ...(src.size !== undefined ? { size: src.size } : {}),
    read: (into) => src.read(into).catch(own),
    ...(src.seek ? { seek: (n: number) => src.seek!(n).catch(own) } : {}),
    ...(src.close ? { close: () => src.close!() } : {}),
  };
}

async function pick(req: Request, file = req.file, r?: StreamReader): Promise<{ codec: FamilyCodec; version: string }> {
  if (req.format) {
    const f = parseFormat(req.format);
    return { codec: codecFor(f.family), version: f.version };
  }
  let head: Uint8Array;
  if (r && req.inner) {
    // The stream inside a container: its first bytes come through the container's reader.
    await r.fill(DETECT_BYTES);
    head = r.peek(Math.min(r.buffered, DETECT_BYTES));
  } else head = new Uint8Array(await file.slice(0, DETECT_BYTES).arrayBuffer());
  const found = detect(head);
  if (!found) {
    throw new WireError(
      "UNDETECTED",
      head.byteLength < 8 ? `too short to hold any stream header (${head.byteLength} bytes)` : "cannot detect the stream format from its header",
      0,
    );
  }
  return found;
}

/** The codec of the stream inside a container, from its first bytes (or --format). */
async function pickInner(req: Request, file: File, inner: Inner): Promise<{ codec: FamilyCodec; version: string }> {
  const r = streamReader(req, (await openInner(file, inner)).source, 0);
  try {
    return await pick({ ...req, inner }, file, r);
  } finally {
    await r.close().catch(() => {});
  }
}

async function run(req: Request): Promise<void> {
  let format: string | undefined;
  let r: StreamReader | undefined;
  try {
    if (req.task === "container") {
      const kind = await containerOf(req.file);
      const f = { v: kind ?? "" };
      try {
        post({ id: req.id, kind: "container", container: kind ? await describeContainer(req.file, kind, f) : null });
      } finally {
        format = f.v || undefined;
      }
      return;
    }
    if (req.task === "diff") {
      const other = req.other;
      if (!other) throw new Error("diff needs two files");
      // A qcow2 snapshot or a save image is compared by the stream inside, as `vmstream diff` does.
      const inner = new Map<File, { inner: Inner; size: number | undefined }>();
      for (const f of [req.file, other]) {
        const i = await streamToCompare(f);
        if (!i) continue;
        const o = await openInner(f, i); // for its size; each pass opens its own
        await o.source.close?.();
        inner.set(f, { inner: i, size: o.size });
      }
      const diff = await diffFiles(req.file, other, {
        pick: (f) => (inner.has(f) ? pickInner(req, f, inner.get(f)!.inner) : pick(req, f)),
        reader: (f, label) => {
          const i = inner.get(f);
          if (!i) return streamReader(req, fileSource(f), f.size, label);
          return streamReader(req, lazySource(async () => (await openInner(f, i.inner)).source, i.size), i.size ?? 0, label);
        },
      });
      post({ id: req.id, kind: "diffed", diff: plain(diff) as typeof diff });
      return;
    }
    r = await reader(req);
    const { codec, version } = await pick(req, req.file, r);
    format = `${codec.family}@${version}`;
    post({ id: req.id, kind: "detected", format, title: familyTitle(codec.family) });
    const opts: CodecOptions = {};
    switch (req.task) {
      case "inspect":
      case "analyze": {
        if (req.task === "analyze") opts.view = "analyze";
        const ins = await codec.inspect(r, version, opts);
        const json = plain(ins.json);
        // Some codecs return the first fault inside their summary instead of throwing it.
        const f = (json as { fault?: { offset?: unknown; message?: unknown; code?: unknown; path?: unknown } } | null)?.fault;
        if (f && typeof f.offset === "number" && typeof f.message === "string") {
          const fault = { offset: f.offset, message: f.message, code: String(f.code ?? "MALFORMED"), path: String(f.path ?? "") };
          post({ id: req.id, kind: "fault", format, fault, partial: { json, text: ins.text } });
        } else {
          post({ id: req.id, kind: "inspected", format: ins.format, json, text: ins.text });
        }
        break;
      }
      case "verify": {
        const rep = await codec.verify(r, version, opts);
        post({ id: req.id, kind: "verified", format: rep.format, items: rep.items, bytes: rep.bytes, notes: rep.notes });
        break;
      }
      case "pagemap": {
        if (codec.family !== "qemu") throw new RefusedError(`the page map reads QEMU streams; this is ${format}`, 0);
        const map = new PageMapBuilder();
        try {
          await walkPageRuns(r, version, opts, map);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          post({ id: req.id, kind: "pagemap", map: map.finish(), fault: { offset: e.offset, message: e.message, code: e.code, path: e.path } });
          break;
        }
        post({ id: req.id, kind: "pagemap", map: map.finish() });
        break;
      }
      case "decode": {
        const limit = req.limit ?? 8 << 20;
        let text = "";
        let truncated = false;
        for await (const piece of codec.decode(r, version, opts)) {
          text += piece;
          if (text.length > limit) {
            text = text.slice(0, limit);
            truncated = true;
            break;
          }
        }
        post({ id: req.id, kind: "decoded", text, truncated });
        break;
      }
    }
  } catch (e) {
    if (e instanceof WireError) {
      const p = (e as { partial?: { json?: unknown; text?: unknown } }).partial;
      const partial = p && typeof p.text === "string" ? { json: plain(p.json ?? null), text: p.text } : undefined;
      post({
        id: req.id,
        kind: "fault",
        ...(format ? { format } : {}),
        fault: { offset: e.offset, message: e.message, code: e.code, path: e.path, ...(OWN.has(e) ? { inContainer: true } : {}) },
        ...(partial ? { partial } : {}),
      });
    } else {
      post({ id: req.id, kind: "error", message: (e as Error)?.message ?? String(e) });
    }
  } finally {
    await r?.close().catch(() => {});
  }
}

self.onmessage = (ev: MessageEvent<Request>) => {
  void run(ev.data);
};
