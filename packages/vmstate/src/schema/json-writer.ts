/**
 * QEMU's compact JSONWriter (qobject/json-writer.c, non-pretty), which writes
 * the vmdesc trailer. Reproduced so our vmdesc is byte-identical: `", "`
 * between members, `": "` after keys, no other whitespace, uppercase `\uXXXX`
 * for control and non-ASCII code points, surrogate pairs beyond the BMP.
 */
export class QemuJsonWriter {
  private out = "";
  private needComma = false;
  /** One entry per open container: true for arrays. */
  private readonly stack: boolean[] = [];

  get text(): string {
    return this.out;
  }
  get depth(): number {
    return this.stack.length;
  }

  private member(name: string | null): void {
    if (this.needComma) this.out += ", ";
    else this.needComma = true;
    const inObject = this.stack.length > 0 && this.stack[this.stack.length - 1] === false;
    if (inObject) this.out += `${quote(name ?? "")}: `;
  }

  startObject(name: string | null = null): void {
    this.member(name);
    this.out += "{";
    this.stack.push(false);
    this.needComma = false;
  }
  endObject(): void {
    this.stack.pop();
    this.needComma = true;
    this.out += "}";
  }
  startArray(name: string | null = null): void {
    this.member(name);
    this.out += "[";
    this.stack.push(true);
    this.needComma = false;
  }
  endArray(): void {
    this.stack.pop();
    this.needComma = true;
    this.out += "]";
  }
  int(name: string | null, v: number | bigint): void {
    this.member(name);
    this.out += String(v);
  }
  str(name: string | null, v: string): void {
    this.member(name);
    this.out += quote(v);
  }
  bool(name: string | null, v: boolean): void {
    this.member(name);
    this.out += v ? "true" : "false";
  }
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}

/** json-writer.c quoted_str over a JS string (already decoded code points). */
export function quote(s: string): string {
  let r = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (cp) {
      case 0x22:
        r += '\\"';
        break;
      case 0x5c:
        r += "\\\\";
        break;
      case 0x08:
        r += "\\b";
        break;
      case 0x0c:
        r += "\\f";
        break;
      case 0x0a:
        r += "\\n";
        break;
      case 0x0d:
        r += "\\r";
        break;
      case 0x09:
        r += "\\t";
        break;
      default:
        if (cp > 0xffff) {
          r += `\\u${hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
        } else if (cp < 0x20 || cp >= 0x7f) {
          r += `\\u${hex4(cp)}`;
        } else {
          r += ch;
        }
    }
  }
  return r + '"';
}
