/**
 * Standard output that cannot be written: a full disk (ENOSPC, `> /dev/full`), a file past its
 * size limit (EFBIG), a terminal or device gone wrong (EIO), a descriptor closed under us (EBADF).
 * Unlike a reader that went away (EPIPE: the run goes on without printing, as `| head -1` wants),
 * the user asked for this output and nothing more of it will reach them, so the run ends: one
 * line on stderr, the peer told why (PeerLink.outputFailed), exit EXIT_OUTPUT_FAILED. Before,
 * the error event ended the process as "parley: internal error: ENOSPC: ..." (exit 70) and the
 * peer saw a connection closed without a goodbye.
 */

import { readerGone } from "../ui/reader-gone.ts";
import { osWords } from "./os-words.ts";

/** What the peer hears (its line reads "bob left (its output failed). Connection closed."). */
export const OUTPUT_FAILED_REASON = "its output failed";

/**
 * A write error that ends the run: any but a reader gone (EPIPE, or EIO of a terminal that hung
 * up: printing stops, the run goes on). The CLI's streams (reporter.ts, held-output.ts, io.ts)
 * and the chat's terminal (ui/terminal-interface.ts failedOutput) share that rule: ui/reader-gone.ts.
 * @param stream - the stream written to: a terminal's EIO is a hang-up
 */
export function isOutputFailure(err: unknown, stream: { readonly isTTY?: boolean }): boolean {
  return Boolean(err) && !readerGone(err, stream.isTTY === true);
}

/**
 * The stderr line: "parley: cannot write to standard output (no space left on device, ENOSPC):
 * leaving; the peer is told." (`told` false, no session open: it ends after the bracket).
 */
export function outputFailedLine(err: unknown, told: boolean): string {
  const code = (err as { code?: unknown }).code;
  const said = osWords(err);
  const words = typeof code === "string" && !said.includes(code) ? `${said}, ${code}` : said;
  return `parley: cannot write to standard output (${words})${told ? ": leaving; the peer is told." : "."}`;
}
