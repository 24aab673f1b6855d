import { type Sink, type StreamReader, batched } from "@vmstream/framing";

/**
 * Recode of a stream family whose every valid stream re-encodes to itself
 * (each field the writers emit is one the reader checked to have its only
 * valid form: zero padding and reserved bits, lengths that match): run
 * `check`, the walk verify runs, while the reader passes every byte it
 * consumes through to `out`. Runs of records go out as large views of the
 * reader's buffer, not re-framed record by record; a fault throws before the
 * caller closes the output, so an output file is never published (the
 * decode → encode round trips keep testing the writers).
 */
export async function passCheckedStream(r: StreamReader, out: Sink, check: () => Promise<unknown>): Promise<void> {
  const bs = batched(out);
  r.passThrough(bs);
  await check();
  await r.endPassThrough();
  await bs.flush();
}
