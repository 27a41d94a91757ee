/**
 * The one rule for an output whose reader went away, as against one that failed: a pipe's
 * reader closed it (EPIPE: `parley ... | head -1`), or a terminal hung up (EIO on a TTY: its
 * window closed, the ssh connection dropped; SIGHUP follows). Printing stops and the run goes
 * on. Any other write error (ENOSPC of `> /dev/full`, EFBIG, EBADF, EIO of a file or device)
 * means output the user asked for is lost: the CLI ends the run (cli/output-failure.ts).
 */

/**
 * @param tty - the stream written is a terminal (its `isTTY`)
 * @returns true when `err` says nobody is left to read what is written
 */
export function readerGone(err: unknown, tty: boolean): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return code === "EPIPE" || (tty && code === "EIO");
}
