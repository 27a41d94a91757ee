/** Connection codes in the CLI: how a listener's code is shown, where a dialer's comes from. */

import { isCodeWords, normalizeCodeWords } from "../crypto/codes.ts";
import { unwrapTypedCode } from "../crypto/typed-code.ts";
import { formatAddress } from "../net/endpoints.ts";
import { isLoopbackHost, UsageError } from "./flags.ts";
import { osWords } from "./os-words.ts";
import { foreignSpecialFileProblem, secretFileWarning } from "./secret-files.ts";

/** Where a warning about a secret file goes (stderr, before the command starts). */
export type Warn = (line: string) => void;

export { isLoopbackHost };

/**
 * The note for a code given on the command line (`--connect`, `--to`, `receive CODE`): other
 * users of the machine can read argv. Undefined when the text holds no code words.
 */
export function codeOnCommandLineNote(text: string | undefined): string | undefined {
  if (text === undefined || !/\d[\s-]+[A-Za-z]/.test(text)) return undefined;
  return "Note: the code is on this command line, which other users of this machine can see (ps); PARLEY_CODE or --code-file keep it private.";
}

/**
 * What a listener's hint tells the peer to run: the code in PARLEY_CODE and only its address on
 * the command line (`PARLEY_CODE=40123-ribbon-walnut parley send <paths> --to 40123`), as the
 * README does, so that following it gets no codeOnCommandLineNote.
 * @param code - the listener's code, `[HOST:]PORT-word-word` (connectionCode)
 */
export function peerCommandHint(role: "send" | "receive", code: string): string {
  const target = code.replace(/-[a-z]+-[a-z]+$/, "");
  const command = role === "send" ? `parley receive ${target}` : `parley send <paths> --to ${target}`;
  return `Waiting for the peer: PARLEY_CODE=${code} ${command}`;
}

/** Two codes that are the same once spaces, dashes and case are set aside (as codes are read). */
export function sameCode(a: string, b: string | undefined): boolean {
  const plain = (text: string) =>
    unwrapTypedCode(text)
      .toLowerCase()
      .replace(/[\s-]+/g, "-");
  return b !== undefined && plain(a) === plain(b);
}

/**
 * What the chat says to a user who typed the code their own screen shows, in either flow (a direct
 * code, dialed, would be refused by this Parley's own port; a mailbox code, joined, would use up
 * its own meeting): which code goes where.
 */
export const OWN_CODE_TYPED =
  "That is this chat's own code: give it to the peer, and type the code the peer's Parley shows.";

/** What to say when only a port was given: the code is the way in. */
export const WHOLE_CODE_NEEDED =
  "type the whole code the peer's Parley shows, like 40123-ribbon-walnut (it begins with the port)";

/**
 * The code words to dial with: those typed, else those of PARLEY_CODE / --code-file. Without
 * any, only --insecure-port-only dials the port alone (unverified).
 * @returns the words, "" for port-only mode, or undefined when the whole code is needed
 */
export function dialWords(typed: string | undefined, peerCode: string | undefined, insecurePortOnly: boolean) {
  const words = typed ?? codeWordsOf(peerCode);
  if (words) return words;
  return insecurePortOnly ? "" : undefined;
}

/**
 * The code to show: `port-word-word`, with the host in front when the listener is reachable
 * beyond loopback (`192.0.2.2:40123-ribbon-walnut`).
 */
export function connectionCode(host: string, port: number, words: string, reachableAt: readonly string[]): string {
  if (isLoopbackHost(host)) return `${port}-${words}`;
  // A wildcard listener: the first address another machine can use (not loopback, not
  // link-local fe80::, which needs a zone); `reachableAt` holds "addr:port" / "[v6]:port".
  const external = reachableAt.find((a) => !/^(127\.|\[::1\]|\[fe80:)/i.test(a));
  if (external) return `${external}-${words}`;
  return `${formatAddress(host, port)}-${words}`;
}

/** The words of a code ("40123-ribbon-walnut" or "ribbon-walnut"), or undefined. */
export function codeWordsOf(code: string | undefined): string | undefined {
  if (code === undefined) return undefined;
  const m = /^(?:.*?\d[\s-]+)?([A-Za-z][A-Za-z\s-]*)$/.exec(code.trim());
  const words = m ? normalizeCodeWords(m[1] as string) : "";
  return isCodeWords(words) ? words : undefined;
}

/**
 * The peer's code given out of the command line (ps shows argv): `--code-file FILE`, else
 * the PARLEY_CODE environment variable. A code given there that holds no valid words is a
 * mistake to report, never a reason to fall back to the unverified port-only mode.
 * @param warn - told when other users can read or change the code file (secret-files.ts)
 * @throws UsageError when the file cannot be read, or the code is not valid
 */
export function peerCodeFromEnvironment(
  codeFile: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  warn: Warn = () => {},
): string | undefined {
  let code: string | undefined;
  let source: string;
  if (codeFile !== undefined) {
    source = `--code-file ${codeFile}`;
    code = readCodeFile(codeFile, warn).trim();
  } else {
    source = "PARLEY_CODE";
    code = env.PARLEY_CODE?.trim();
    if (!code) return undefined;
  }
  if (codeWordsOf(code) === undefined) {
    throw new UsageError(`${source} does not hold a valid code (port-word-word, like 40123-ribbon-walnut)`);
  }
  return code;
}

/** A code file holds a line; more than this is not a code file (`--code-file /dev/zero` would fill memory). */
export const MAX_CODE_FILE_BYTES = 4096;

/**
 * The text of `--code-file FILE`, read up to MAX_CODE_FILE_BYTES; `warn` is told (one line,
 * and the file is read all the same) when other users of the machine can read or change it.
 * @throws UsageError when it cannot be read or holds more
 */
export function readCodeFile(codeFile: string, warn: Warn = () => {}): string {
  const source = `--code-file ${codeFile}`;
  // node:fs only for a code file: the chat's start-up does without it.
  const fs = require("node:fs") as typeof import("node:fs");
  const buffer = new Uint8Array(MAX_CODE_FILE_BYTES + 1);
  let length = 0;
  let fd: number | undefined;
  try {
    // Not waiting for a writer (a named pipe opens only once one comes): another user's pipe is
    // refused before that, and our own (`<(pass show code)`, a named pipe of ours) opened again,
    // through the descriptor where /proc has it (never a name swapped meanwhile), to be read as
    // its writer writes. O_NONBLOCK changes nothing for a regular file.
    fd = fs.openSync(codeFile, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const first = fs.fstatSync(fd);
    if (!first.isFile()) {
      const problem = foreignSpecialFileProblem(source, first, process.getuid?.());
      if (problem) throw new UsageError(problem);
      const waiting = fd;
      fd = fs.openSync(fs.existsSync(`/proc/self/fd/${waiting}`) ? `/proc/self/fd/${waiting}` : codeFile, "r");
      fs.closeSync(waiting);
      const again = fs.fstatSync(fd);
      if (again.dev !== first.dev || again.ino !== first.ino) {
        throw new UsageError(`${source} was replaced while it was opened: not read`);
      }
    }
    for (;;) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > MAX_CODE_FILE_BYTES) {
        throw new UsageError(`${source} holds more than ${MAX_CODE_FILE_BYTES} bytes: not a code file`);
      }
    }
    // Said once it was read as a code file. The file opened, not the name looked up again.
    const warning = secretFileWarning(source, codeFile, fs.fstatSync(fd), process.getuid?.());
    if (warning) warn(warning);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${source}: ${osWords(err)}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  return new TextDecoder().decode(buffer.subarray(0, length));
}
