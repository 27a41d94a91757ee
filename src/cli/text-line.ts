/**
 * A text message written as output (`receive --stdout`): the text, one newline after it, as
 * `wormhole receive` prints it, but for a text that ends with a newline already: `wormhole
 * receive` prints one more (Python's print), we add none. One place for both senders, a Parley
 * peer's `send --text` (receive-command.ts) and a plain wormhole client's (mailbox-command.ts).
 */

/** `text` with one newline after it: none added when it ends with one already (nor a second). */
export function textLine(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
