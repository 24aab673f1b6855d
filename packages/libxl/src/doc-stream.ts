import { JsonReader, type JsonReaderOptions, type StreamReader, WireError, safeObject } from "@vmstream/framing";

/**
 * How a family's decoded document is encoded as it streams: the members
 * before its one long array (`records`, `items`) make the stream's headers,
 * each array item is written as soon as it is read, the members after it
 * close the stream. Every Xen family's document has that shape; `decode`
 * writes the members in that order.
 */
export interface StreamedDocument {
  /** Keys leading to the long array, e.g. ["records"] or ["libxl", "records"]. */
  path: readonly string[];
  /** Item members that are base64 bytes: decoded straight from the input, never a string. */
  bytesKeys: ReadonlySet<string>;
  /** Item members that are objects read by the same rule (`libxc` in a libxl document). */
  nestKeys?: ReadonlySet<string>;
  /** The array opens: `head` holds every member read so far (nested along `path`). */
  begin(head: Record<string, unknown>): Promise<void> | void;
  /** One item of the array; its bytes members are views valid until the returned promise resolves. */
  item(value: Record<string, unknown>, index: number): Promise<void> | void;
  /** The document ended: `all` holds every member but the array (`begun` false if it never came). */
  end(all: Record<string, unknown>, begun: boolean): Promise<void> | void;
}

/**
 * Read a document from JSON text in bounded memory, whatever its size: no
 * string ever holds the document or an item's payload. A fault in an item
 * (a bad field) is reported at the item's byte offset in the document;
 * a syntax fault at its exact byte.
 */
export async function readStreamedDocument(input: StreamReader, doc: StreamedDocument, opts: JsonReaderOptions = {}): Promise<void> {
  const j = new JsonReader(input, opts);
  const root = safeObject();
  let begun = false;
  const walk = async (level: number, into: Record<string, unknown>): Promise<void> => {
    await j.openObject();
    for (let k = await j.nextKey(); k !== null; k = await j.nextKey()) {
      if (k !== doc.path[level] || (begun && level === doc.path.length - 1)) {
        into[k] = await j.value();
      } else if (level < doc.path.length - 1) {
        if ((await j.peek()) !== 0x7b) {
          into[k] = await j.value();
          continue;
        }
        const inner = safeObject();
        into[k] = inner;
        await walk(level + 1, inner);
      } else {
        begun = true;
        await at(j.offset, () => doc.begin(root));
        await j.openArray();
        for (let i = 0; await j.nextItem(); i++) {
          await j.peek();
          const start = j.offset;
          // The item's bytes are views of a buffer the next item reuses: `item` is done with them when it resolves.
          const v = await j.object(doc.bytesKeys, doc.nestKeys, 0, true);
          await at(start, () => doc.item(v, i));
        }
      }
    }
  };
  await walk(0, root);
  await j.end();
  await at(j.offset, () => doc.end(root, begun));
}

/** Run `fn`; a document fault it throws without a position gets `offset`. */
async function at(offset: number, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof WireError && e.offset === 0) e.offset = offset;
    throw e;
  }
}
