import { ByteWriter, RefusedError, type Sink, type Source } from "@vmstream/framing";
import { LIBVIRT_SAVE_XML_ROOM } from "@vmstream/wire-spec";
import { type Transform, webCompress } from "../transform.js";
import { compressionCode, writeSaveHeader } from "./header.js";

export interface SaveImageFields {
  /** Domain XML, written NUL-terminated at byte 92. */
  xml: string;
  /** Cookie XML, written after the domain XML's NUL; null for none (cookieOffset 0). */
  cookie: string | null;
  /** 1: libvirt resumes the domain after restoring it; 0: it stays paused. */
  wasRunning: number;
  compression: string;
  /** Bytes of XML and padding; default: what the XML needs plus the 64 KiB libvirt leaves for edits. */
  dataLen?: number;
  /** Write the `LibvirtQemudPart` magic (an incomplete save), for tests. */
  partial?: boolean;
}

/** The header, the XML and cookie and their NUL padding: everything before the stream. */
export function saveImagePrefix(f: SaveImageFields): Uint8Array {
  const enc = new TextEncoder();
  const xml = enc.encode(f.xml);
  const cookie = f.cookie === null ? null : enc.encode(f.cookie);
  if (xml.includes(0) || cookie?.includes(0)) throw new RefusedError("the XML holds a NUL byte, which would end it early");
  const cookieOffset = cookie ? xml.byteLength + 1 : 0;
  const used = xml.byteLength + 1 + (cookie ? cookie.byteLength + 1 : 0);
  const dataLen = f.dataLen ?? used + LIBVIRT_SAVE_XML_ROOM;
  if (dataLen < used) throw new RefusedError(`data_len ${dataLen} is smaller than the XML it must hold (${used} bytes)`);
  const w = new ByteWriter(92 + dataLen);
  writeSaveHeader(w, { partial: f.partial === true, dataLen, wasRunning: f.wasRunning, compressed: compressionCode(f.compression), cookieOffset });
  w.bytes(xml).u8(0);
  if (cookie) w.bytes(cookie).u8(0);
  w.zeros(dataLen - used);
  return w.finish();
}

/**
 * Write a save image around a QEMU stream: the prefix, then the stream, raw or
 * as one compressed stream. A raw image made from a parsed one (same fields,
 * same data_len, same stream) is byte-identical to it.
 */
export async function writeSaveImage(sink: Sink, f: SaveImageFields, stream: Source, compress: Transform = webCompress): Promise<number> {
  const prefix = saveImagePrefix(f);
  await sink.write(prefix);
  const body = compress(f.compression, stream, prefix.byteLength);
  const buf = new Uint8Array(1 << 20);
  let total = prefix.byteLength;
  for (;;) {
    const n = await body.read(buf);
    if (n === 0) break;
    await sink.write(buf.subarray(0, n));
    total += n;
  }
  await body.close?.();
  return total;
}
