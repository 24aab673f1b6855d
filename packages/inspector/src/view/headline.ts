/**
 * The two lines a person debugging a migration wants first — what guest this
 * is, and what the stream holds — picked from whichever fields the family's
 * `inspect` JSON has. Unknown shapes give empty strings, never an error.
 */
type J = Record<string, unknown>;

const obj = (v: unknown): J | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as J) : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const count = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : num(v));
const n = (x: number) => x.toLocaleString("en-US");

export function guestLine(json: unknown): string {
  const j = obj(json);
  if (!j) return "";
  const parts: string[] = [];
  const machine = str(obj(j.configuration)?.name);
  if (machine) parts.push(`machine ${machine}`);
  const ram = obj(j.ram);
  const blocks = Array.isArray(ram?.blocks) ? (ram.blocks as unknown[]).map(obj) : [];
  const main = blocks.find((b) => b && /ram$/.test(String(b.name)));
  if (main && num(main.length) !== undefined) parts.push(`${n(num(main.length)! / (1024 * 1024))} MiB of RAM (${String(main.name)})`);
  const domain = str(j.domain_type);
  if (domain) parts.push(domain);
  const guest = str(j.guest);
  if (guest) parts.push(`${guest.toUpperCase()} guest`);
  const width = num(j.width);
  if (width) parts.push(`saved by a ${width}-bit toolstack`);
  const xen = str(j.xen) ?? (num(j.xen_major) !== undefined ? `${j.xen_major}.${j.xen_minor}` : undefined);
  if (xen) parts.push(`Xen ${xen}`);
  return parts.join(", ");
}

export function contentsLine(json: unknown): string {
  const j = obj(json);
  if (!j) return "";
  const parts: string[] = [];
  const sections = count(j.sections);
  if (sections !== undefined) parts.push(`${n(sections)} sections`);
  const records = Array.isArray(j.listing) ? j.listing.length : Array.isArray(j.records) ? j.records.length : num(j.records);
  if (records !== undefined) parts.push(`${n(records)} records`);
  const ram = obj(j.ram);
  if (ram && num(ram.pages) !== undefined) {
    parts.push(`RAM: ${n(num(ram.pages)!)} pages with data, ${n(num(ram.zeroPages) ?? 0)} zero pages (${n(num(ram.pageBytes) ?? 0)} bytes of page data)`);
  }
  const dataPages = num(j.data_pages);
  if (dataPages !== undefined) parts.push(`${n(dataPages)} pages of data for ${n(num(j.pfns) ?? 0)} pfns`);
  if (num(j.batches) !== undefined && num(j.pages) !== undefined) parts.push(`${n(num(j.pages)!)} pages in ${n(num(j.batches)!)} batches`);
  if (Array.isArray(j.chunks)) parts.push(`${n(j.chunks.length)} chunks`);
  return parts.join("; ");
}
