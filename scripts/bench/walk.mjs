/**
 * Foundation measurement, in process: walk every record of a context stream
 * (descriptors read, bodies skipped or drained, padding checked) from a file
 * or from standard input (`-`), with the production sources. Prints one JSON
 * line: bytes, records, seconds (excluding Node start-up).
 */
import { StreamReader } from "@vmstream/framing";
import { fileSource, stdinSource } from "@vmstream/node";
import { contextCodec } from "@vmstream/libxl";

const path = process.argv[2] ?? "-";
const t0 = performance.now();
const r = new StreamReader(path === "-" ? await stdinSource() : await fileSource(path));
const rep = await contextCodec.verify(r, "2", {});
await r.close();
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ bytes: rep.bytes, records: rep.items, seconds })}\n`);
