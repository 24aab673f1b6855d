import { LimitError, MalformedError } from "@vmstream/framing";

/**
 * Just enough XML for a libvirt save image: a well-formedness check (tags
 * nest and match, one root, attributes quoted and not repeated, entities
 * known) that builds a small element tree to read the domain's name, UUID,
 * machine and memory from. No DTDs, no namespaces beyond keeping the prefix.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const MAX_DEPTH = 256;
const NAME = /[A-Za-z_:\u00c0-\uffff][-A-Za-z0-9._:\u00b7\u00c0-\uffff]*/y;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Parse `xml`; a fault is a MalformedError at `base` + the byte offset of the fault. */
export function parseXml(xml: string, base: number, what = "XML"): XmlElement {
  const enc = new TextEncoder();
  const at = (i: number) => base + enc.encode(xml.slice(0, i)).byteLength;
  const fail = (msg: string, i: number): never => {
    throw new MalformedError(`${what}: ${msg}`, at(i));
  };
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let i = 0;
  const n = xml.length;

  const text = (s: string, from: number): string =>
    s.replace(/&([^;&<]*);|&/g, (m, name: string | undefined, off: number) => {
      if (name === undefined) return fail("'&' that starts no entity", from + off);
      if (Object.hasOwn(ENTITIES, name)) return ENTITIES[name]!;
      const num = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name);
      if (num) {
        const cp = num[1] !== undefined ? parseInt(num[1], 16) : Number(num[2]);
        if (cp > 0 && cp <= 0x10ffff) return String.fromCodePoint(cp);
      }
      return fail(`unknown entity ${m}`, from + off);
    });

  while (i < n) {
    const lt = xml.indexOf("<", i);
    const chunkEnd = lt < 0 ? n : lt;
    if (chunkEnd > i) {
      const s = xml.slice(i, chunkEnd);
      if (stack.length > 0) stack[stack.length - 1]!.text += text(s, i);
      else if (s.trim() !== "") fail(root ? "text after the root element" : "text before the root element", i);
      i = chunkEnd;
      if (lt < 0) break;
    }
    if (xml.startsWith("<!--", i)) {
      const e = xml.indexOf("-->", i + 4);
      if (e < 0) fail("comment never closed", i);
      i = e + 3;
    } else if (xml.startsWith("<?", i)) {
      const e = xml.indexOf("?>", i + 2);
      if (e < 0) fail("processing instruction never closed", i);
      i = e + 2;
    } else if (xml.startsWith("<![CDATA[", i)) {
      const e = xml.indexOf("]]>", i + 9);
      if (e < 0) fail("CDATA section never closed", i);
      if (stack.length === 0) fail("CDATA outside the root element", i);
      stack[stack.length - 1]!.text += xml.slice(i + 9, e);
      i = e + 3;
    } else if (xml.startsWith("<!DOCTYPE", i)) {
      if (root) fail("DOCTYPE after the root element", i);
      const e = xml.indexOf(">", i);
      if (e < 0) fail("DOCTYPE never closed", i);
      i = e + 1;
    } else if (xml.startsWith("</", i)) {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(xml);
      if (!m) fail("end tag without a name", i);
      const top = stack.pop();
      if (!top) fail(`end tag </${m![0]}> with no open element`, i);
      if (top!.name !== m![0]) fail(`end tag </${m![0]}> closes <${top!.name}>`, i);
      let j = NAME.lastIndex;
      while (j < n && /\s/.test(xml[j]!)) j++;
      if (xml[j] !== ">") fail(`end tag </${m![0]}> not closed by '>'`, j);
      i = j + 1;
    } else {
      const start = i;
      NAME.lastIndex = i + 1;
      const m = NAME.exec(xml);
      if (!m) fail("'<' that starts no tag", i);
      if (root && stack.length === 0) fail(`second root element <${m![0]}>`, i);
      const el: XmlElement = { name: m![0], attrs: {}, children: [], text: "" };
      let j = NAME.lastIndex;
      let selfClosing = false;
      for (;;) {
        const ws = j;
        while (j < n && /\s/.test(xml[j]!)) j++;
        if (j >= n) fail(`tag <${el.name}> never closed`, start);
        if (xml[j] === ">") {
          j++;
          break;
        }
        if (xml.startsWith("/>", j)) {
          j += 2;
          selfClosing = true;
          break;
        }
        if (ws === j) fail(`no space before an attribute of <${el.name}>`, j);
        NAME.lastIndex = j;
        const a = NAME.exec(xml);
        if (!a) fail(`bad attribute in <${el.name}>`, j);
        j = NAME.lastIndex;
        while (j < n && /\s/.test(xml[j]!)) j++;
        if (xml[j] !== "=") fail(`attribute ${a![0]} of <${el.name}> has no value`, j);
        j++;
        while (j < n && /\s/.test(xml[j]!)) j++;
        const q = xml[j];
        if (q !== '"' && q !== "'") fail(`attribute ${a![0]} of <${el.name}> is not quoted`, j);
        const e = xml.indexOf(q!, j + 1);
        if (e < 0) fail(`attribute ${a![0]} of <${el.name}> never closed`, j);
        const raw = xml.slice(j + 1, e);
        const bad = raw.indexOf("<");
        if (bad >= 0) fail(`'<' in the value of attribute ${a![0]}`, j + 1 + bad);
        if (Object.hasOwn(el.attrs, a![0])) fail(`attribute ${a![0]} repeated in <${el.name}>`, j);
        el.attrs[a![0]] = text(raw, j + 1);
        j = e + 1;
      }
      if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) throw new LimitError(`${what}: elements nested deeper than ${MAX_DEPTH}`, at(start));
        stack.push(el);
      }
      i = j;
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]!.name}> never closed`, n);
  if (!root) fail("no root element", 0);
  return root!;
}

export const child = (el: XmlElement | undefined, name: string): XmlElement | undefined => el?.children.find((c) => c.name === name);

/** What a person wants to know about the saved domain. */
export interface DomainInfo {
  type?: string;
  name?: string;
  uuid?: string;
  machine?: string;
  arch?: string;
  /** `<memory>` in bytes, from its value and unit (KiB when none). */
  memoryBytes?: number;
}

const UNITS: Record<string, number> = {
  b: 1, bytes: 1, k: 1024, kib: 1024, kb: 1000, m: 1024 ** 2, mib: 1024 ** 2, mb: 1e6,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1e9, t: 1024 ** 4, tib: 1024 ** 4, tb: 1e12,
};

export function domainInfo(root: XmlElement): DomainInfo {
  const info: DomainInfo = {};
  if (root.name !== "domain") return info;
  if (root.attrs.type !== undefined) info.type = root.attrs.type;
  const name = child(root, "name")?.text.trim();
  if (name) info.name = name;
  const uuid = child(root, "uuid")?.text.trim();
  if (uuid) info.uuid = uuid;
  const osType = child(child(root, "os"), "type");
  if (osType?.attrs.machine !== undefined) info.machine = osType.attrs.machine;
  if (osType?.attrs.arch !== undefined) info.arch = osType.attrs.arch;
  const mem = child(root, "memory");
  if (mem) {
    const unit = UNITS[(mem.attrs.unit ?? "KiB").toLowerCase()];
    const v = Number(mem.text.trim());
    if (unit !== undefined && Number.isFinite(v)) info.memoryBytes = v * unit;
  }
  return info;
}
