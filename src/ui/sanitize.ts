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
 * Runs of two or more blank lines (empty, or spaces and tabs only) as one line that counts them
 * ("(1000 blank lines)"): a text of a million newlines printed a million labelled lines. One
 * blank line, a paragraph's break, stays as it is.
 */
function blankRunsCounted(lines: string[]): string[] {
  const out: string[] = [];
  let blanks = 0;
  let blank = "";
  const flush = () => {
    if (blanks === 1) out.push(blank);
    else if (blanks > 1) out.push(`(${blanks} blank lines)`);
    blanks = 0;
  };
  for (const line of lines) {
    if (/^[ \t]*$/.test(line)) {
      blanks++;
      blank = line;
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out;
}
