/**
 * send's and receive's code prompt: `parley receive 40123` (or `send --to 40123`; with a mailbox,
 * its number alone: `receive 7`) at a terminal, with no code kept in PARLEY_CODE or a --code-file,
 * asks for the code's words, as `wormhole receive` asks for its code. Before, it was a usage
 * error whose way out, PARLEY_CODE, left the code in the shell's history. Never where standard
 * input is not a terminal: a script must not wait for an answer nobody types (the usage error
 * stays). Loaded only when it asks.
 *
 * The answer is echoed (the terminal's own line mode, so Backspace edits it and Ctrl-C is a
 * signal): a code is good for one connection and is shown on the peer's screen anyway.
 */

import { createInterface } from "node:readline/promises";
import { parseWormholeCode, wormholeCodeTypo } from "../crypto/wormhole-code.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { codeWordsOf } from "./codes.ts";
import type { ReceiveOptions, SendOptions } from "./command-args.ts";
import { dialTarget } from "./dial-target.ts";
import { EXIT_USAGE, signalExitCode } from "./exit-codes.ts";
import { parsePeerAddress } from "./input.ts";
import { type CliIo, SIGNAL_WORDS, type Signal } from "./io.ts";
import type { Reporter } from "./reporter-interface.ts";

/**
 * Whether `given` (the code on the command line) needs the prompt: a port alone (a mailbox's
 * number alone) with no code kept out of argv, not --insecure-port-only, and a terminal to ask at
 * that is not what is sent (`send -`).
 */
export function asksForCode(given: string | undefined, options: SendOptions | ReceiveOptions, io: CliIo): boolean {
  if (given === undefined || options.peerCode !== undefined) return false;
  if ((io.stdin as { isTTY?: boolean }).isTTY !== true) return false;
  // `send -`: what is typed there is the data (Bun's stream of fd 0 then got nothing the prompt had read).
  if ("paths" in options && options.paths.includes("-")) return false;
  if (options.mailbox) return /^\s*\d+\s*$/.test(given);
  if (options.insecurePortOnly) return false;
  const target = dialTarget(given, options);
  return "problem" in target && target.onlyPort;
}

/**
 * Asks for the code on stderr (stdout may be the file, `receive --stdout`) until a valid one is
 * typed; a wrong one is said and asked again (nothing was tried).
 * @returns the code to dial with, kept as a PARLEY_CODE's (the whole code: `40123-ribbon-walnut`,
 *   `7-crossover-clockwork`), or the exit code when Ctrl-D or a signal ended the prompt (said
 *   here, and to `reporter` as an error said above: with --json an `error` event, where the run's
 *   events go; no `bye`: no peer was met, as a signal while listening writes none)
 */
export async function askCode(
  role: "send" | "receive",
  given: string,
  options: SendOptions | ReceiveOptions,
  io: CliIo,
  reporter: Pick<Reporter, "error">,
): Promise<string | number> {
  const place = given.trim();
  const example = options.mailbox ? `${place}-crossover-clockwork` : `${portOf(place)}-ribbon-walnut`;
  const question = `Enter the code the peer's Parley shows (${example}, or its words): `;
  const rl = createInterface({ input: io.stdin, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  let signalled: (signal: Signal) => void = () => {};
  const signal = new Promise<Signal>((resolve) => {
    signalled = resolve;
  });
  const stopCatching = io.onSignal((s) => signalled(s));
  const nothing = role === "send" ? "nothing was sent" : "nothing was received";
  /** A mailbox code said to look mistyped: typed again as it is, it is tried (a code the peer chose). */
  let mistyped: string | undefined;
  try {
    for (;;) {
      io.stderr.write(question);
      const next = await Promise.race([lines.next(), signal]);
      if (typeof next === "string") {
        // The terminal echoed "^C" after the question: the line ends first.
        const line = `${SIGNAL_WORDS[next]} at the code prompt: ${nothing}.`;
        io.stderr.write(`\n${line}\n`);
        reporter.error("E_INTERRUPTED", line, true);
        return signalExitCode(next);
      }
      if (next.done) {
        const line = `Ctrl-D at the code prompt: no code was given, ${nothing}.`;
        io.stderr.write(`\n${line}\n`);
        reporter.error("E_NO_CODE", line, true);
        return EXIT_USAGE;
      }
      const answer = next.value.trim();
      if (answer === "") continue;
      const code = options.mailbox ? mailboxAnswer(place, answer, mistyped) : directAnswer(place, answer, options);
      if ("code" in code) return code.code;
      mistyped = (code as { mistyped?: string }).mistyped;
      io.stderr.write(`${sanitizeForTerminal(code.problem)}\n`);
    }
  } finally {
    stopCatching();
    rl.close();
  }
}

/** The port of `[HOST:]PORT` as given (the example's). */
function portOf(place: string): string {
  return /(\d+)$/.exec(place)?.[1] ?? place;
}

/** A direct code typed for the port `place`: its words, or the whole code with that port. */
function directAnswer(
  place: string,
  answer: string,
  options: SendOptions | ReceiveOptions,
): { code: string } | { problem: string } {
  const whole = /^\S*\d[\s-]+[A-Za-z]/.test(answer) || /^\d+$/.test(answer) ? answer : `${portOf(place)}-${answer}`;
  const address = parsePeerAddress(whole, "127.0.0.1");
  if (typeof address === "string") return { problem: address };
  if (address.words === undefined || codeWordsOf(whole) === undefined) {
    return { problem: `${answer} is only a port: type the code's words too (${portOf(place)}-word-word)` };
  }
  const target = dialTarget(place, { ...options, peerCode: whole });
  if ("problem" in target) {
    return { problem: `that code is for port ${address.port}, not ${portOf(place)}: type the code for ${place}` };
  }
  return { code: whole };
}

/**
 * A mailbox code typed for the number `place`: its words, or the whole code with that number. One
 * that looks mistyped is said (trying it would spend the peer's code), unless it is `retyped`.
 */
function mailboxAnswer(
  place: string,
  answer: string,
  retyped: string | undefined,
): { code: string } | { problem: string; mistyped?: string } {
  const code = parseWormholeCode(/^\d/.test(answer) ? answer : `${place}-${answer}`);
  if (code === undefined) return { problem: `"${answer}" is not a mailbox code (like ${place}-crossover-clockwork)` };
  if (code.nameplate !== place) {
    return { problem: `that code's number is ${code.nameplate}, not ${place}: type the code for ${place}` };
  }
  const typo = code.code === retyped ? undefined : wormholeCodeTypo(code.code);
  if (typo === undefined) return { code: code.code };
  const problem = `${code.code} looks mistyped, nothing was tried (a mailbox code is good for one try): ${typo}. If the peer chose it as it is, type it again`;
  return { problem, mistyped: code.code };
}
