/**
 * The public operations on descriptions: load, save, and the vmdesc entry QEMU
 * would write for the same save.
 */
import { ByteReader, ByteWriter, RefusedError } from "@vmstream/framing";
import { QemuJsonWriter } from "./json-writer.js";
import { compileVmsd } from "./plan.js";
import { loadVmsd, saveVmsd } from "./run.js";
import type { SaveFormat, State, Vmsd } from "./types.js";

export interface LoadOptions {
  /** The version the data was written at (a section's version_id). Default: the schema's. */
  version?: number;
  /** 3 (QEMU, peeked subsections) or 4 (explicit SUBSECTIONS_END). Default 3. */
  format?: SaveFormat;
  /**
   * The destination's state before the load, like QEMU's device struct: the
   * result starts as a copy of it, `*_equal` and `int32_le` compare against it,
   * and a null element of an array of pointers expects the 0x30 marker.
   */
  current?: State;
  /** With a Uint8Array input: absolute stream offset of its first byte (for error offsets). */
  base?: number;
}

/**
 * Load one description's data. A ByteReader is advanced past the data (other
 * bytes may follow, as in a section); a Uint8Array must hold exactly the data.
 */
export function loadState(schema: Vmsd, input: Uint8Array | ByteReader, opts: LoadOptions = {}): State {
  const r = input instanceof ByteReader ? input : new ByteReader(input, opts.base ?? 0);
  const target: State = opts.current ? { ...opts.current } : {};
  loadVmsd(compileVmsd(schema), r, opts.version ?? schema.version, target, { format: opts.format ?? 3, depth: 0 }, true);
  if (!(input instanceof ByteReader)) r.expectEnd(`${schema.name} state`);
  return target;
}

export interface SaveOptions {
  /** Save as an older version would (fields gated above it are left out). Default: the schema's. */
  version?: number;
  format?: SaveFormat;
  /** Append to this writer instead of a fresh one. */
  writer?: ByteWriter;
  /** Also describe the save into this vmdesc writer (inside an open object). */
  vmdesc?: QemuJsonWriter;
}

function checkSaveVersion(schema: Vmsd, version: number): void {
  if (version > schema.version || version < schema.minimumVersion) {
    throw new RefusedError(`${schema.name}: cannot save at version ${version}`, 0, {
      expected: `${schema.minimumVersion}..${schema.version}`,
      found: String(version),
    });
  }
}

/** Encode a state. Returns a fresh copy of the bytes written by this call. */
export function saveState(schema: Vmsd, value: State, opts: SaveOptions = {}): Uint8Array {
  const version = opts.version ?? schema.version;
  checkSaveVersion(schema, version);
  const w = opts.writer ?? new ByteWriter(256);
  const start = w.length;
  saveVmsd(compileVmsd(schema), w, value, version, { format: opts.format ?? 3, depth: 0 }, opts.vmdesc ?? null, true);
  return w.finish().slice(start);
}

export interface VmdescEntryOptions {
  /** The section idstr (`"name"`). */
  idstr: string;
  instanceId?: number;
  version?: number;
  format?: SaveFormat;
}

/**
 * Save a state and return both the bytes and the vmdesc `devices[]` entry QEMU
 * 7.2 writes for it: `{"name": …, "instance_id": …, "vmsd_name": …, "version": …, "fields": […]…}`.
 */
export function saveWithVmdesc(schema: Vmsd, value: State, opts: VmdescEntryOptions): { bytes: Uint8Array; vmdesc: string } {
  const j = new QemuJsonWriter();
  j.startObject();
  j.str("name", opts.idstr);
  j.int("instance_id", opts.instanceId ?? 0);
  const so: SaveOptions = { vmdesc: j };
  if (opts.version !== undefined) so.version = opts.version;
  if (opts.format !== undefined) so.format = opts.format;
  const bytes = saveState(schema, value, so);
  j.endObject();
  return { bytes, vmdesc: j.text };
}
