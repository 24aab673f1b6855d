import { LimitError, MalformedError, RefusedError, type Source, TruncatedError, WireError } from "@vmstream/framing";
import { LIBVIRT_SAVE_HEADER_SIZE } from "@vmstream/wire-spec";
import { type RandomAccess, readExact } from "../random-access.js";
import { type Transform, sliceSource, webDecompress } from "../transform.js";
import { type SaveCompression, type SaveHeader, compressionName, parseSaveHeader } from "./header.js";
import { type DomainInfo, domainInfo, parseXml } from "./xml.js";

/** libvirt's XML area is tens of KiB; a data_len past this is not a save image's. */
const MAX_DATA_LEN = 64 << 20;

export interface SaveImage {
  header: SaveHeader;
  compression: SaveCompression;
  /** The domain XML (without its NUL). */
  xml: string;
  /** The cookie XML (CPU model, …), or null when cookieOffset is 0. */
  cookie: string | null;
  /** File offset of the QEMU stream (compressed or not): 92 + data_len. */
  streamOffset: number;
  /** Bytes from there to the end of the file. */
  streamBytes: number;
  /** Offset of the first non-NUL byte of the padding after the XML, or -1. */
  paddingNonZeroAt: number;
  /** Name, UUID, machine, memory; empty when the XML is not well-formed (see xmlFault). */
  domain: DomainInfo;
  /** Why the domain XML or cookie is not well-formed, if it is not. */
  xmlFault: WireError | null;
  /** The QEMU stream, decompressed on the fly (gzip here; pass the Node transform for xz, bzip2, lzop). */
  stream(decompress?: Transform): Source;
}

/** Header, XML and cookie; the stream is left where it is until `stream()` is read. */
export async function openSaveImage(ra: RandomAccess): Promise<SaveImage> {
  if (ra.size < LIBVIRT_SAVE_HEADER_SIZE) throw new TruncatedError("libvirt save header", 0, LIBVIRT_SAVE_HEADER_SIZE, ra.size);
  const header = parseSaveHeader(await readExact(ra, 0, LIBVIRT_SAVE_HEADER_SIZE, "libvirt save header"));
  const compression = compressionName(header.compressed);
  const { dataLen, cookieOffset } = header;
  if (dataLen > ra.size - LIBVIRT_SAVE_HEADER_SIZE) {
    throw new MalformedError(`data_len ${dataLen} runs past the end of the file (${ra.size} bytes, ${ra.size - LIBVIRT_SAVE_HEADER_SIZE} after the header)`, 20);
  }
  if (dataLen > MAX_DATA_LEN) throw new LimitError(`data_len ${dataLen} is above ${MAX_DATA_LEN}: not the XML area of a save image`, 20);
  const area = await readExact(ra, LIBVIRT_SAVE_HEADER_SIZE, dataLen, "domain XML");
  const dec = new TextDecoder("utf-8");
  const xmlEnd = area.subarray(0, cookieOffset > 0 ? cookieOffset : dataLen).indexOf(0);
  if (xmlEnd < 0) {
    throw new MalformedError(cookieOffset > 0 ? "domain XML is not NUL-terminated before the cookie" : "domain XML is not NUL-terminated within data_len", LIBVIRT_SAVE_HEADER_SIZE);
  }
  const xml = dec.decode(area.subarray(0, xmlEnd));
  let cookie: string | null = null;
  let used = xmlEnd + 1;
  if (cookieOffset > 0) {
    if (cookieOffset < xmlEnd + 1) throw new MalformedError(`cookieOffset ${cookieOffset} points inside the domain XML (${xmlEnd + 1} bytes with its NUL)`, 32);
    const cEnd = area.subarray(cookieOffset).indexOf(0);
    if (cEnd < 0) throw new MalformedError("cookie XML is not NUL-terminated within data_len", LIBVIRT_SAVE_HEADER_SIZE + cookieOffset);
    cookie = dec.decode(area.subarray(cookieOffset, cookieOffset + cEnd));
    used = cookieOffset + cEnd + 1;
  }
  const nz = area.subarray(used).findIndex((b) => b !== 0);
  let domain: DomainInfo = {};
  let xmlFault: WireError | null = null;
  try {
    domain = domainInfo(parseXml(xml, LIBVIRT_SAVE_HEADER_SIZE, "domain XML"));
    if (cookie !== null) parseXml(cookie, LIBVIRT_SAVE_HEADER_SIZE + cookieOffset, "cookie XML");
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    xmlFault = e;
  }
  const streamOffset = LIBVIRT_SAVE_HEADER_SIZE + dataLen;
  return {
    header,
    compression,
    xml,
    cookie,
    streamOffset,
    streamBytes: ra.size - streamOffset,
    paddingNonZeroAt: nz < 0 ? -1 : LIBVIRT_SAVE_HEADER_SIZE + used + nz,
    domain,
    xmlFault,
    stream(decompress: Transform = webDecompress) {
      const raw = sliceSource((o, b) => ra.readAt(o, b), streamOffset, ra.size);
      return decompress(compression, raw, streamOffset);
    },
  };
}

/**
 * What `verify` holds a save image to beyond its stream: a finished save, the
 * reserved words and the padding zero, both XML documents well-formed.
 */
export function checkSaveImage(img: SaveImage): void {
  if (img.header.partial) {
    throw new RefusedError("incomplete save image (magic LibvirtQemudPart): libvirt had not finished writing it, or the save failed", 0);
  }
  if (img.header.unusedNonZeroAt >= 0) throw new WireError("RESERVED_BITS", "unused header words are not zero", img.header.unusedNonZeroAt);
  if (img.xmlFault) throw img.xmlFault;
  if (img.paddingNonZeroAt >= 0) throw new WireError("NONZERO_PADDING", "padding after the XML is not NUL", img.paddingNonZeroAt);
}
