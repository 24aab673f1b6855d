/**
 * The guest's memory out of a legacy (Xen ≤ 4.5) image: each page batch's
 * data-bearing entries handed to a `PfnTarget` at their pfn, in stream order,
 * as the legacy restore placed them (a pfn sent again overwrites its earlier
 * content). Entries typed XTAB, BROKEN or XALLOC and the saver's filler
 * entries carry no bytes. The image is read by legacy's one walker; the
 * report and the pfn set are libxl's, shared with the v2 families.
 */
import { RefusedError, type CodecOptions, type StreamReader } from "@vmstream/framing";
import { type PfnTarget, type XenMemoryReport, XEN_PAGE_SIZE, carryPage, newXenReport, noDataPage } from "@vmstream/libxl";
import { LEGACY_FILLER_PFN, LIBXC_PAGE_TYPES } from "@vmstream/wire-spec";
import { openLegacy, walkLegacy } from "./reader.js";

/** Type nibble → name and whether the entry carries a page (the nibbles are v2's). */
const TYPES = Array.from({ length: 16 }, (_, n) => LIBXC_PAGE_TYPES[n] ?? null);

/** Walk a legacy image (`version` "32" or "64", `opts` its --width/--guest) and give every page to `target`. */
export async function legacyMemory(r: StreamReader, version: string, opts: CodecOptions, target: PfnTarget): Promise<XenMemoryReport> {
  const shape = await openLegacy(r, version, opts);
  const report = newXenReport(`legacy@${shape.width}`, shape.guest);
  for await (const it of walkLegacy(r, shape)) {
    if (it.kind === "p2m_size") report.p2mSize = it.value;
    else if (it.kind === "marker" && it.id === -13) {
      throw new RefusedError("compressed (Remus format B) images carry pages as deltas against the previous checkpoint: not exported", it.offset);
    } else if (it.kind === "batch") {
      // The batch's page contents follow its pfn array, one page per data-bearing entry, in entry order.
      let at = r.offset;
      for (let i = 0; i < it.count; i++) {
        const v = it.pfns[i]!;
        if (v === LEGACY_FILLER_PFN) continue;
        const type = TYPES[v >>> 28];
        if (!type?.data) {
          noDataPage(report, type?.name ?? `type ${v >>> 28}`);
          continue;
        }
        await r.need(XEN_PAGE_SIZE, "page batch data");
        await carryPage(report, target, v & 0x0fff_ffff, r.take(XEN_PAGE_SIZE), at);
        at += XEN_PAGE_SIZE;
      }
    }
  }
  return report;
}
