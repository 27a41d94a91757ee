/** Exit codes of every command (documented in the README). */

import type { Signal } from "./io.ts";

export const EXIT_OK = 0;
/**
 * Wrong usage (unknown flag, missing argument): help is shown. Also a lost chat connection, and
 * standard output that cannot be written (EXIT_OUTPUT_FAILED).
 */
export const EXIT_USAGE = 1;
/** Standard output cannot be written (a full disk; not a reader gone): the run ended, the peer told. */
export const EXIT_OUTPUT_FAILED = EXIT_USAGE;
/** Could not connect, or the connection failed before any transfer. */
export const EXIT_CONNECTION = 2;
/** A transfer failed, was rejected or cancelled, or the connection broke during one. */
export const EXIT_TRANSFER = 3;
/** A file arrived but did not verify (checksum or size mismatch). */
export const EXIT_INTEGRITY = 4;
export const EXIT_INTERNAL = 70;
export const EXIT_SIGHUP = 129;
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;

/** Each signal's exit code and the reason the peer hears. */
export const SIGNAL_ENDS: Readonly<Record<Signal, { readonly code: number; readonly reason: string }>> = {
  SIGINT: { code: EXIT_SIGINT, reason: "interrupted" },
  SIGTERM: { code: EXIT_SIGTERM, reason: "terminated" },
  SIGHUP: { code: EXIT_SIGHUP, reason: "hung up" },
};

/** The exit code a run ended by `signal` returns (128 + its number, as a shell reports it). */
export function signalExitCode(signal: Signal): number {
  return SIGNAL_ENDS[signal].code;
}

/** Failure codes that mean the data did not verify. */
export const INTEGRITY_CODES: ReadonlySet<string> = new Set(["E_BAD_CHECKSUM", "E_SIZE_MISMATCH"]);

/**
 * The chat's exit codes (README "Exit codes of the chat"): a lost connection is 1, the peer
 * leaving 0, and a transfer that fails does not end a Parley chat; only a plain wormhole peer's
 * one transfer gives its code to the chat (3, 4).
 */
export const CHAT_EXIT_CODES_HELP = `Exit codes: 0 after exit or the peer leaving, 1 usage or a lost connection, 2 connection failed
(three wrong codes, cannot listen, the mailbox), 3 or 4 only with a plain wormhole peer (its transfer
failed / did not verify), 129 hung up (SIGHUP), 130 interrupted (SIGINT), 143 terminated (SIGTERM).`;

/** The exit codes as the commands' help texts show them (written once). */
export const EXIT_CODES_HELP = `Exit codes: 0 ok, 1 usage, 2 connection failed, 3 a transfer failed or was rejected,
4 integrity failure, 129 hung up (SIGHUP), 130 interrupted (SIGINT), 143 terminated (SIGTERM).`;
