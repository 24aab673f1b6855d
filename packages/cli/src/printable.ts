/**
 * Stream contents reach the terminal through summaries and error messages
 * (QEMU idstrs, vmdesc names, xenstore keys). A hostile stream could carry
 * escape sequences that rewrite the screen or the window title, so control
 * characters (C0 except newline and tab, DEL, C1) are shown as `\xNN`.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, newline included
const CONTROL_OR_NEWLINE = /[\x00-\x1f\x7f-\x9f]/g;

const escape = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** Multi-line text for people: keeps newlines and tabs. */
export const printable = (s: string): string => s.replace(CONTROL, escape);

/** One line (the contract error line must stay one line). */
export const printableLine = (s: string): string => s.replace(CONTROL_OR_NEWLINE, escape);
