import { type FamilyCodec, type Sink, type StreamReader, batched } from "@vmstream/framing";

/**
 * Recode of a stream family whose every valid stream re-encodes to itself
 * (each field the writers emit is one the reader checked to have its only
 * valid form: zero padding and reserved bits, lengths that match), from the
 * one walk verify runs, `check`:
 * - `recode` runs it while the reader passes every byte it consumes through
 *   to `out`. Runs of records go out as large views of the reader's buffer,
 *   not re-framed record by record; a fault throws before the caller closes
 *   the output, so an output file is never published (the decode → encode
 *   round trips keep testing the writers).
 * - `recodeCheck` runs it alone (seeking over page data, as verify does),
 *   for a caller that copies the bytes by other means.
 */
export function identityRecode(check: (r: StreamReader, version: string) => Promise<unknown>): Pick<FamilyCodec, "recode" | "recodeCheck"> {
  return {
    async recode(r: StreamReader, version: string, out: Sink): Promise<void> {
      const bs = batched(out);
      r.passThrough(bs);
      await check(r, version);
      await r.endPassThrough();
      await bs.flush();
    },
    async recodeCheck(r: StreamReader, version: string): Promise<void> {
      await check(r, version);
    },
  };
}
