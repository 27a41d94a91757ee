/**
 * Makes text from the peer safe to print: control characters (C0, DEL, C1), and so every
 * ANSI/OSC escape sequence, are shown as visible escapes instead of being interpreted by the
 * terminal. Tabs stay. Pure.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function sanitizeForTerminal(text: string): string {
  return text.replace(CONTROL, (ch) => {
    const code = ch.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return "^?";
    return `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** Longest peer text printed as one line; the rest is counted, not shown. */
export const MAX_DISPLAY_CHARS = 4000;

/** Peer text made safe (sanitizeForTerminal) and bounded to MAX_DISPLAY_CHARS characters. */
export function displayText(text: string, max = MAX_DISPLAY_CHARS): string {
  const safe = sanitizeForTerminal(text);
  if (safe.length <= max) return safe;
  return `${safe.slice(0, max)} … (${safe.length - max} more characters not shown)`;
}

/**
 * A peer's text message as the lines it holds (split at \n and \r\n, one final newline
 * dropped), each made safe (sanitizeForTerminal), for printing one `<peer> ` label a line: a
 * multi-line `wormhole send --text` was one line full of ^J, and a line of its own could not
 * pass for one of ours. At most `max` characters are shown; the rest are counted on the last line.
 */
export function peerTextLines(text: string, max = Number.POSITIVE_INFINITY): string[] {
  const cut = text.length > max;
  const shown = cut ? text.slice(0, max) : text.replace(/\r?\n$/, "");
  const lines = blankRunsCounted(shown.split(/\r?\n/).map(sanitizeForTerminal));
  if (cut) lines[lines.length - 1] += ` … (${text.length - max} more characters not shown)`;
  return lines;
}

/**
 * Blank lines (empty, or spaces and tabs only) in a row that stay as they are; a longer run is
 * one line that counts them ("(1000 blank lines)"): a text of a million newlines printed a
 * million labelled lines. Two, not one: a double blank line is common layout in pasted text
 * (between sections of a mail or notes, PEP 8's between functions), and "(2 blank lines)" in its
 * place was a line of words where a reader saw only space; three or more is rarely layout.
 */
const MAX_BLANKS_KEPT = 2;

function blankRunsCounted(lines: string[]): string[] {
  const out: string[] = [];
  /** The run's first blank lines, as they are; and how many it has. */
  const kept: string[] = [];
  let blanks = 0;
  const flush = () => {
    if (blanks <= MAX_BLANKS_KEPT) out.push(...kept);
    else out.push(`(${blanks} blank lines)`);
    kept.length = 0;
    blanks = 0;
  };
  for (const line of lines) {
    if (/^[ \t]*$/.test(line)) {
      if (++blanks <= MAX_BLANKS_KEPT) kept.push(line);
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}
