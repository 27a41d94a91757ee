/**
 * Where `receive --stdout` writes the file's bytes: standard output, reopened non-blocking
 * when it is a pipe (`| reader`, `> fifo`).
 *
 * A shell hands fd 1 over blocking: a reader that stops reading would block the process in
 * write(2), and with it Ctrl-C, PINGs and the 10 s stall check of StreamReceiver, which all
 * expect EAGAIN. Setting O_NONBLOCK on fd 1 itself would change it for every other process
 * sharing that pipe (the shell, `(parley receive --stdout; echo done) | x`), so the pipe is
 * opened again through /proc/self/fd/1: a file description of our own on the same pipe.
 * Anything else (a file, a terminal), or where that open fails, is fd 1 as it is.
 */

import { closeSync, constants, fstatSync, openSync } from "node:fs";

export interface StreamOutput {
  /** The descriptor to write the file to. */
  readonly fd: number;
  /** Closes the descriptor this opened (fd 1 itself stays open). */
  close(): void;
}

export function openStreamOutput(): StreamOutput {
  let fd = 1;
  try {
    if (fstatSync(1).isFIFO()) fd = openSync("/proc/self/fd/1", constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    // No /proc, or no reader left (ENXIO): fd 1 as it is; its own write errors say the rest.
    fd = 1;
  }
  return {
    fd,
    close: () => {
      if (fd !== 1) closeSync(fd);
      fd = 1;
    },
  };
}
