/**
 * What a typed line means, pure (see DESIGN: Input lines). After connecting, `transfer ...`,
 * `exit`, `help`, `transfers`, `cancel <id>` (each also with a leading `/`) are commands; an
 * unknown `/word` is an unknown command; a line starting with `\` is chat without the
 * backslash; every other line is chat. `exit`, `help` and `transfers` are commands only alone
 * on their line and `cancel` only with a number, so "help me with this" or "cancel the
 * meeting" stay chat lines; `transfer` alone is the command (its usage is shown), not chat.
 */

import { codeWordsProblem, isCodeWords, normalizeCodeWords } from "../crypto/codes.ts";
import { unwrapTypedCode } from "../crypto/typed-code.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import type * as WildcardModule from "./wildcard.ts";
import type { Wildcard } from "./wildcard.ts";

export type InputLine =
  | { readonly kind: "empty" }
  | { readonly kind: "chat"; readonly text: string; readonly escaped?: true }
  | { readonly kind: "transfer"; readonly args: string }
  | { readonly kind: "exit" }
  | { readonly kind: "help" }
  | { readonly kind: "transfers" }
  | { readonly kind: "cancel"; readonly id: number }
  | { readonly kind: "unknown"; readonly word: string };

const ALONE_COMMANDS = new Set(["exit", "quit", "help", "transfers"]);

/** The wildcard's matcher: loaded by a `transfer` word that has one, not on the chat's way to its code line. */
function wildcards(): typeof WildcardModule {
  return require("./wildcard.ts") as typeof WildcardModule;
}

export function parseInputLine(line: string): InputLine {
  if (line.startsWith("\\")) return { kind: "chat", text: line.slice(1), escaped: true };
  const trimmed = line.trim();
  if (trimmed === "") return { kind: "empty" };
  const slash = trimmed.startsWith("/");
  const match = /^\/?(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  const word = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  // `transfer` alone is the command without its paths (the chat shows its usage), not chat.
  if (word === "transfer") return { kind: "transfer", args: rest };
  // "cancel 3" / "cancel #3" is a command; "cancel the meeting" is chat.
  const cancel = /^#?(\d{1,10})$/.exec(rest);
  if (word === "cancel" && cancel) return { kind: "cancel", id: Number(cancel[1]) };
  if (ALONE_COMMANDS.has(word) && rest === "") {
    if (word === "help") return { kind: "help" };
    if (word === "transfers") return { kind: "transfers" };
    return { kind: "exit" };
  }
  if (slash) return { kind: "unknown", word: trimmed.split(/\s/)[0] ?? trimmed };
  return { kind: "chat", text: line };
}

/** The arguments of a `transfer` line cannot be read as paths (a quote left open, no path): one line for the user. */
export class TransferArgsError extends Error {
  override name = "TransferArgsError";
}

/**
 * A path of a `transfer` line, and when its last name is a wildcard to expand (`*.jpg`), the
 * folder to read and the wildcard (expandTransferPaths).
 */
export interface TransferWord {
  readonly path: string;
  readonly wildcard?: { readonly dir: string; readonly pattern: Wildcard; readonly hidden: boolean };
}

/**
 * The paths named by the arguments of `transfer`, before any wildcard is expanded. When the
 * whole rest of the line names an existing file it is that one file (as users of the classic
 * program type names with spaces); otherwise it is split shell-style: "double" and 'single'
 * quotes, backslash escapes. A path whose last name holds a wildcard (`*`, `?`, `[...]`, typed
 * unquoted, as a shell takes them) and names nothing as typed carries it, to expand.
 * @throws TransferArgsError with a user-facing message on an unterminated quote or no path
 */
export function transferWords(args: string, exists: (path: string) => boolean): TransferWord[] {
  const whole = expandHome(args.trim());
  if (whole !== "" && exists(whole)) return [{ path: whole }];
  const words = splitShellWords(args);
  if (words.length === 0) throw new TransferArgsError("transfer needs a file: transfer <path>");
  return words.map((word) => wildcardWord(word, exists));
}

/**
 * transferWords, then each wildcard expanded (expandTransferPaths, with its clock `now`).
 * @throws TransferArgsError as transferWords (at once, not through the promise)
 */
export function parseTransferPaths(
  args: string,
  exists: (path: string) => boolean,
  now?: () => number,
): Promise<string[]> {
  return expandTransferPaths(transferWords(args, exists), now);
}

/** How long matching a wildcard's names goes on before it hands the event loop back. */
const MATCH_SLICE_MS = 4;

/**
 * The words' wildcards expanded: the names of each one's folder that match, sorted, as a shell
 * would give them (`transfer ~/pics/*.jpg`; a name starting with "." only for a pattern that
 * does). No match, or a folder that cannot be read: the path as typed (its error says nothing
 * matched). The folder is read off the event loop and its names matched a few milliseconds at a
 * time: read and matched on the chat's turn (readdirSync), 300,000 names held chat lines, PINGs
 * and Ctrl-C for 0.43-1.7 s at load 6-9; now 48-190 ms, mostly readdir's one hand-over of the
 * names (as a big folder's in walkFolderSoon; opendir's batches took longer, with longer pauses).
 */
export async function expandTransferPaths(
  words: readonly TransferWord[],
  now: () => number = () => performance.now(),
): Promise<string[]> {
  const paths: string[] = [];
  for (const { path, wildcard } of words) {
    if (!wildcard) {
      paths.push(path);
      continue;
    }
    let names: string[];
    try {
      const { readdir } = require("node:fs/promises") as typeof import("node:fs/promises");
      names = await readdir(wildcard.dir === "" ? "." : wildcard.dir, { encoding: "utf8" });
    } catch {
      paths.push(path);
      continue;
    }
    const hits: string[] = [];
    const { wildcardMatches } = wildcards();
    let sliceStart = now();
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      if ((wildcard.hidden || !name.startsWith(".")) && wildcardMatches(wildcard.pattern, name)) hits.push(name);
      if (i % 1024 === 1023 && now() - sliceStart >= MATCH_SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = now();
      }
    }
    if (hits.length === 0) paths.push(path);
    else for (const name of hits.sort()) paths.push(wildcard.dir + name);
  }
  return paths;
}

/**
 * A word as a path (`~` expanded), with its wildcard when its last name holds one typed unquoted
 * and the path names nothing as typed (a file really named `*.jpg` is that file). A wildcard in a
 * folder's name is left as typed (rare, and a walk), as is a set no name can match (`[z-a]`).
 */
function wildcardWord(word: ShellWord, exists: (path: string) => boolean): TransferWord {
  const path = expandHome(word.text);
  // The last name as typed: the same text at the end of the path (`~` changes only its start).
  const name = word.text.slice(word.text.lastIndexOf("/") + 1);
  const unquoted = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (!word.literal[i] && /[*?[]/.test(word.text[i] as string)) return true;
    return false;
  };
  const nameFrom = word.text.length - name.length;
  if (!unquoted(nameFrom, word.text.length) || unquoted(0, nameFrom) || exists(path)) return { path };
  // The literal marks by code point, as compileWildcard reads the name.
  const literal: boolean[] = [];
  for (let i = nameFrom; i < word.text.length; i += (word.text.codePointAt(i) as number) > 0xffff ? 2 : 1)
    literal.push(word.literal[i] === true);
  const { compileWildcard, isWildcard } = wildcards();
  const pattern = compileWildcard(name, literal);
  if (!pattern || !isWildcard(pattern)) return { path };
  return { path, wildcard: { dir: path.slice(0, path.length - name.length), pattern, hidden: name.startsWith(".") } };
}

/**
 * transferWords for a chat's `transfer` line: arguments that cannot be read as paths are said as
 * one Error line (`say`) and give undefined; the chat goes on.
 */
export function transferWordsOrSay(
  args: string,
  exists: (path: string) => boolean,
  say: (line: string) => void,
): TransferWord[] | undefined {
  try {
    return transferWords(args, exists);
  } catch (err) {
    if (!(err instanceof TransferArgsError)) throw err;
    say(`Error: ${sanitizeForTerminal(err.message)}`);
    return undefined;
  }
}

/** "~" and "~/x" mean the home directory. */
export function expandHome(path: string): string {
  if (path === "~") return homedir();
  if (path.startsWith("~/")) return homedir() + path.slice(1);
  return path;
}

/** node:os is loaded only for a `~` path: loading it cost the chat's start-up a millisecond or two. */
function homedir(): string {
  return (require("node:os") as typeof import("node:os")).homedir();
}

/** A word of a line split shell-style, and which of its UTF-16 units were quoted or escaped. */
interface ShellWord {
  readonly text: string;
  readonly literal: readonly boolean[];
}

function splitShellWords(text: string): ShellWord[] {
  const words: ShellWord[] = [];
  let word = "";
  let literal: boolean[] = [];
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const add = (ch: string, quoted: boolean) => {
    word += ch;
    literal.push(quoted);
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      // Inside "...", as in a shell, a backslash escapes only ", $, ` and itself; before any other it is itself.
      else if (ch === "\\" && quote === '"' && i + 1 < text.length && '"\\$`'.includes(text[i + 1] as string))
        add(text[++i] as string, true);
      else add(ch, true);
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      add(text[++i] as string, true);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push({ text: word, literal });
      word = "";
      literal = [];
      inWord = false;
    } else {
      add(ch, false);
      inWord = true;
    }
  }
  if (quote) throw new TransferArgsError(`the ${quote} quote is not closed, so nothing was sent: ${text.trim()}`);
  if (inWord) words.push({ text: word, literal });
  return words;
}

/**
 * A peer address typed or given with --connect: "<port>", "<host>:<port>", "[v6]:<port>",
 * each optionally followed by the code words: "40123-ribbon-walnut".
 */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
  /** The code's words ("ribbon-walnut"), when given. */
  readonly words?: string;
}

/** @returns the address, or an error sentence */
export function parsePeerAddress(text: string, defaultHost: string): PeerAddress | string {
  const t = unwrapTypedCode(text);
  // Typed at the chat's code prompt before any peer is there.
  if (/^\/?transfer(\s|$)/.test(t)) return 'not connected yet: "transfer" works once the peer is connected';
  // "host:port-word-word": the words start at the first "-" (or space: "40123 ribbon walnut", as
  // a mailbox code is read) after the port's digits.
  const withWords = /^(.*?)(\d{1,5})[\s-]+([A-Za-z][A-Za-z\s-]*)$/.exec(t);
  let where = t;
  let words: string | undefined;
  if (withWords) {
    where = `${withWords[1]}${withWords[2]}`;
    words = normalizeCodeWords(withWords[3] as string);
    if (!isCodeWords(words)) {
      if (isMailboxCode(t))
        return `"${t}" is not a valid code (port-word-word, as the peer's Parley shows it)${MAILBOX_CODE_HINT}`;
      // Which word, and the one meant when it is a typo away ("hotl": "hotel"): the code looked right.
      return `"${t}" is not a valid code: ${codeWordsProblem(words) ?? "port-word-word, as the peer's Parley shows it"}`;
    }
  }
  let host = defaultHost;
  let portText = where;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(where);
  if (bracketed) {
    host = bracketed[1] as string;
    portText = bracketed[2] as string;
  } else if (where.includes(":")) {
    const at = where.lastIndexOf(":");
    host = where.slice(0, at);
    portText = where.slice(at + 1);
    if (host.includes(":")) return `"${t}": write an IPv6 address in brackets, e.g. [::1]:40123`;
  }
  if (!/^\d{1,5}$/.test(portText)) {
    return `"${t}" is not a code, a port or host:port`;
  }
  const port = Number(portText);
  if (port < 1 || port > 65535) return `port ${port} is out of range (1-65535)`;
  if (host === "") return `"${t}" has an empty host`;
  return { host, port, ...(words === undefined ? {} : { words }) };
}

/** Said of a mailbox code given where no mailbox is configured. */
const MAILBOX_CODE_HINT = "; a mailbox code like this one needs the peer's mailbox: --relay, or --relay-url URL";

/**
 * Whether `text` (not a valid direct code) looks like `<nameplate>-<word>-<word>`, a code made
 * through a mailbox: a number below 1024 (a nameplate; a listener's port is one the OS hands
 * out, far above), or magic-wormhole's PGP words. The word lists are loaded on this error path
 * only (not at start-up).
 */
export function isMailboxCode(text: string): boolean {
  const code = numberAndTwoWords(text);
  if (!code) return false;
  if (code.number < 1024) return true;
  const { EVEN_WORDS, ODD_WORDS } = pgpWordLists();
  return ODD_WORDS.includes(code.words[0]) && EVEN_WORDS.includes(code.words[1]);
}

/** `text` as `<number> <word> <word>` (spaces or dashes between, any case), as codes are typed; else undefined. */
function numberAndTwoWords(text: string): { number: number; words: [string, string] } | undefined {
  const parts = text
    .trim()
    .toLowerCase()
    .split(/[\s-]+/);
  if (parts.length !== 3 || !/^\d{1,9}$/.test(parts[0] as string)) return undefined;
  return { number: Number(parts[0]), words: [parts[1] as string, parts[2] as string] };
}

/** magic-wormhole's PGP word lists, loaded where a code is judged (not at start-up). */
function pgpWordLists(): typeof import("../crypto/wormhole-words.ts") {
  return require("../crypto/wormhole-words.ts") as typeof import("../crypto/wormhole-words.ts");
}

/**
 * Whether a chat line is a whole code, as the code prompt takes one: a direct code with its
 * words (`40123-ribbon-walnut`, `host:40123 ribbon walnut`) or a mailbox code of magic-wormhole's
 * PGP words (`7-adroitness-aardvark`). A line of digits and two other words ("3 red apples") is not.
 */
export function isWholeCode(text: string): boolean {
  const address = parsePeerAddress(text, "127.0.0.1");
  if (typeof address !== "string") return address.words !== undefined;
  const code = numberAndTwoWords(unwrapTypedCode(text));
  if (!code) return false;
  const { EVEN_WORDS, ODD_WORDS } = pgpWordLists();
  return code.words.every((word) => ODD_WORDS.includes(word) || EVEN_WORDS.includes(word));
}
