/**
 * Where a JSON document stops being JSON, as a byte offset (UTF-8), for the
 * contract line of commands that read JSON (`encode`, `schema-diff`). Node
 * 20's JSON.parse messages do not always carry a position, so a small
 * iterative scanner (no recursion: hostile nesting cannot overflow the stack)
 * finds it. Returns -1 for a valid document.
 */
export function jsonErrorOffset(s: string): number {
  const at = jsonErrorIndex(s);
  return at < 0 ? -1 : Buffer.byteLength(s.slice(0, at), "utf8");
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = '"\\/bfnrt';

function jsonErrorIndex(s: string): number {
  const n = s.length;
  let i = 0;
  const stack: string[] = [];
  type Want = "value" | "valueOrClose" | "key" | "keyOrClose" | "commaOrClose";
  let want: Want = "value";

  const skipWs = () => {
    while (i < n && (s[i] === " " || s[i] === "\t" || s[i] === "\n" || s[i] === "\r")) i++;
  };
  /** At a quote: move past the string; false (with `i` at the bad character) if it is not one. */
  const string = (): boolean => {
    i++;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = s[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) return false;
          i += 6;
        } else if (e !== undefined && ESCAPES.includes(e)) i += 2;
        else return false;
        continue;
      }
      i++;
    }
    return false;
  };

  for (;;) {
    skipWs();
    if (i >= n) return want === "commaOrClose" && stack.length === 0 ? -1 : n;
    const c = s[i]!;
    if (want === "value" || want === "valueOrClose") {
      if (want === "valueOrClose" && c === "]") {
        stack.pop();
        i++;
        want = "commaOrClose";
      } else if (c === "{" || c === "[") {
        stack.push(c);
        i++;
        want = c === "{" ? "keyOrClose" : "valueOrClose";
      } else if (c === '"') {
        if (!string()) return i;
        want = "commaOrClose";
      } else {
        NUMBER.lastIndex = i;
        const lit = ["true", "false", "null"].find((w) => s.startsWith(w, i));
        if (lit) i += lit.length;
        else if (NUMBER.test(s)) i = NUMBER.lastIndex;
        else return i;
        want = "commaOrClose";
      }
    } else if (want === "key" || want === "keyOrClose") {
      if (want === "keyOrClose" && c === "}") {
        stack.pop();
        i++;
        want = "commaOrClose";
        continue;
      }
      if (c !== '"' || !string()) return i;
      skipWs();
      if (s[i] !== ":") return i;
      i++;
      want = "value";
    } else {
      const top = stack[stack.length - 1];
      if (top === undefined) return i; // something after the document
      if (c === ",") {
        i++;
        want = top === "{" ? "key" : "value";
      } else if ((c === "]" && top === "[") || (c === "}" && top === "{")) {
        stack.pop();
        i++;
      } else return i;
    }
  }
}

/** JSON.parse, with a syntax error turned into `{offset, message}` for the contract line. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; offset: number; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const at = jsonErrorOffset(text);
    return { ok: false, offset: Math.max(0, at), message: `not valid JSON: ${(e as Error).message}` };
  }
}
