import { type WireError, hex, isWireError } from "@vmstream/framing";

/** One line of an inspect listing; consecutive PAGE_DATA records are folded into one run. */
export interface SummaryLine {
  layer: string;
  name: string;
  offset: number;
  /** Body bytes (sum over a run). */
  length: number;
  /** Records in this line (more than 1 only for PAGE_DATA runs). */
  records: number;
  pfns?: number;
  data_pages?: number;
}

export class Summary {
  readonly lines: SummaryLine[] = [];
  fault: { offset: number; message: string; code: string } | null = null;
  private error: WireError | null = null;

  add(layer: string, name: string, offset: number, length: number, pfns?: number, dataPages?: number): void {
    const last = this.lines[this.lines.length - 1];
    if (pfns !== undefined && last && last.layer === layer && last.name === name && last.pfns !== undefined) {
      last.records++;
      last.length += length;
      last.pfns += pfns;
      last.data_pages! += dataPages ?? 0;
      return;
    }
    const line: SummaryLine = { layer, name, offset, length, records: 1 };
    if (pfns !== undefined) {
      line.pfns = pfns;
      line.data_pages = dataPages ?? 0;
    }
    this.lines.push(line);
  }

  /** Record a fault (inspect shows how far the stream is readable); rethrow anything else. */
  catch(e: unknown): void {
    if (!isWireError(e)) throw e;
    const w = e as WireError;
    this.fault = { offset: w.offset, message: w.message, code: w.code };
    this.error = w;
  }

  /**
   * Hand back the inspection, or, after a fault, throw the fault with the
   * inspection attached as `partial` (the CLI prints what was understood).
   */
  finish<T>(ins: T): T {
    if (this.error) {
      (this.error as WireError & { partial?: T }).partial = ins;
      throw this.error;
    }
    return ins;
  }

  table(): string[] {
    const out = ["  layer  offset      body bytes  record"];
    for (const l of this.lines) {
      const what =
        l.pfns !== undefined
          ? `${l.name}${l.records > 1 ? ` ×${l.records}` : ""}: ${l.pfns} pfn(s), ${l.data_pages} page(s) of data`
          : l.name;
      out.push(`  ${l.layer.padEnd(5)}  ${hex(l.offset).padEnd(10)}  ${String(l.length).padStart(10)}  ${what}`);
    }
    return out;
  }
}
