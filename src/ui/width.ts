/**
 * Display width of terminal text: columns, not UTF-16 units (a CJK character or most emoji
 * take two columns, a combining mark none). Rows of wrapped text and bars cut to the terminal
 * are counted with it. Pure.
 */

type StringWidth = typeof import("string-width");
/** string-width, loaded at first use (its emoji table costs ms at start-up). */
let stringWidth: StringWidth | undefined;

/** Columns `text` takes on a terminal (escape sequences count as none). */
export function displayWidth(text: string): number {
  stringWidth ??= require("string-width") as StringWidth;
  return stringWidth(text);
}

/** Terminal rows `text` (one line, no newline) takes at `columns` wide: at least 1. */
export function rowsOf(text: string, columns: number): number {
  return Math.max(1, Math.ceil(displayWidth(text) / Math.max(columns, 1)));
}

/** `text` cut to at most `columns` columns, never inside a character. */
export function cutToWidth(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = displayWidth(ch);
    if (used + w > columns) break;
    out += ch;
    used += w;
  }
  return out;
}
