/**
 * Where a typed code points: the host and port to dial and the code's words to prove (or why it
 * cannot be dialed). Pure: commands check --connect with it up front, PeerLink dials its result.
 */

import { dialWords } from "./codes.ts";
import { parsePeerAddress } from "./input.ts";
import { dialHostFor } from "./listening.ts";

/** Where to dial, with the code's words ("" for --insecure-port-only). */
export interface DialTarget {
  readonly host: string;
  readonly port: number;
  readonly words: string;
}

/** What a dial needs of the link's options (connect.ts LinkOptions carries these). */
export interface DialOptions {
  /** The host we listen on: the host a code typed without one dials (dialHostFor). */
  readonly host: string;
  /** The peer's code from PARLEY_CODE / --code-file: its words complete a bare port. */
  readonly peerCode?: string;
  readonly insecurePortOnly: boolean;
}

/**
 * What a port given alone on the command line (`send --to 40123`, `receive 40123`, a script's
 * `--connect 40123`) lacks: the prompts say their own (chat-before-peer.ts, code-prompt.ts). Both
 * ways are named, as the mailbox's "only a mailbox code's number" does: a script that passed the
 * port alone meant the code to come from somewhere else (newuser33: the README's own
 * `tar c photos | parley send - --to 40123` was told to "type" the code, and nothing of PARLEY_CODE).
 */
const PORT_ALONE_GIVEN =
  "give the whole code the peer's Parley shows, like 40123-ribbon-walnut (it begins with the port), or put the code in PARLEY_CODE or a --code-file";

/** What is wrong with a typed code (`onlyPort`: a port without the code's words). */
export interface TargetProblem {
  readonly problem: string;
  readonly onlyPort: boolean;
}

/**
 * Where a typed code points and with which words (those typed, else PARLEY_CODE's); a port
 * alone only with --insecure-port-only. A port typed alone must be the port of PARLEY_CODE's
 * code when it names one: another port (a typo) reached another listener with these words,
 * spent one of its guesses and said "wrong code" of a right code. Words alone there complete
 * any port (one forwarded to the peer's). Pure: commands check --connect with it up front.
 */
export function dialTarget(text: string, options: DialOptions): DialTarget | TargetProblem {
  const address = parsePeerAddress(text, dialHostFor(options.host));
  if (typeof address === "string") return { problem: address, onlyPort: false };
  const words = dialWords(address.words, options.peerCode, options.insecurePortOnly);
  if (words === undefined) return { problem: `${text.trim()} is only a port: ${PORT_ALONE_GIVEN}`, onlyPort: true };
  const codePort = address.words === undefined && options.peerCode ? portOfCode(options.peerCode) : undefined;
  if (codePort !== undefined && codePort !== address.port) {
    const problem = `the code in PARLEY_CODE or --code-file is for port ${codePort}, not ${address.port}: give that port, or (a port forwarded to the peer's) put only the code's words there`;
    return { problem, onlyPort: false };
  }
  return { host: address.host, port: address.port, words };
}

/** The port a code names (`40123-ribbon-walnut`, `host:40123-...`), or undefined (words alone). */
function portOfCode(code: string): number | undefined {
  const address = parsePeerAddress(code, "127.0.0.1");
  return typeof address === "string" ? undefined : address.port;
}
