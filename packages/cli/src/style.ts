/**
 * Colour for people, plain text for scripts: escape codes only when the stream
 * is a terminal and NO_COLOR is not set (https://no-color.org).
 */
export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
}

const sgr = (code: string) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;
const plain = (s: string) => s;

export function styleFor(stream: { isTTY?: boolean }): Style {
  const on = stream.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  return on
    ? { bold: sgr("1"), dim: sgr("2"), red: sgr("31"), green: sgr("32") }
    : { bold: plain, dim: plain, red: plain, green: plain };
}
