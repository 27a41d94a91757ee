/**
 * A code as a person pastes it: copied from a message, it often comes in quotes or backticks
 * ("7-crossover-clockwork", `40123-ribbon-walnut`, typographic “...”). A code never holds a quote, so
 * one pair wrapping the whole of it is taken off, with the space around it; anything else stays
 * as typed, for the code's own parser to judge.
 */

/** Opening marks and the mark that closes each. */
const CLOSING: Readonly<Record<string, string>> = { '"': '"', "'": "'", "`": "`", "“": "”", "‘": "’", "«": "»" };

/** `text` trimmed, without one pair of quotes (or backticks) around all of it. */
export function unwrapTypedCode(text: string): string {
  const t = text.trim();
  const close = CLOSING[t.charAt(0)];
  return close !== undefined && t.length >= 2 && t.endsWith(close) ? t.slice(1, -1).trim() : t;
}
