/**
 * One `--json` event as one line: JSON.stringify with the characters that would break or
 * disguise the line for its reader escaped (reporter.ts prints the events with it).
 */

/**
 * Characters JSON.stringify leaves raw that break or disguise a line of JSON for its reader:
 * DEL and C1 controls (U+0085 is a line break to some readers, U+009B a terminal escape), the
 * line and paragraph separators (U+2028/2029), and format characters (bidi overrides,
 * zero-width spaces, U+FEFF...). They only occur inside strings, so escaping them keeps the JSON
 * valid and the text the same.
 */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\p{Zl}\p{Zp}]/gu;

/** One event as a line of JSON holding only printable characters outside the escapes. */
export function jsonLine(event: Record<string, unknown>): string {
  return JSON.stringify(event).replace(UNSAFE_IN_JSON, (ch) => {
    let escaped = "";
    for (let i = 0; i < ch.length; i++) escaped += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
    return escaped;
  });
}
