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
import { compileWildcard, wildcardMatches } from "./wildcard.ts";

export type InputLine =
  | { readonly kind: "empty" }
  | { readonly kind: "chat"; readonly text: string }
  | { readonly kind: "transfer"; readonly args: string }
  | { readonly kind: "exit" }
  | { readonly kind: "help" }
  | { readonly kind: "transfers" }
  | { readonly kind: "cancel"; readonly id: number }
  | { readonly kind: "unknown"; readonly word: string };

const ALONE_COMMANDS = new Set(["exit", "quit", "help", "transfers"]);

export function parseInputLine(line: string): InputLine {
  if (line.startsWith("\\")) return { kind: "chat", text: line.slice(1) };
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
 * The paths named by the arguments of `transfer`. When the whole rest of the line names an
 * existing file it is that one file (as users of the classic program type names with spaces);
 * otherwise it is split shell-style: "double" and 'single' quotes, backslash escapes.
 * @throws TransferArgsError with a user-facing message on an unterminated quote or no path
 */
export function parseTransferPaths(args: string, exists: (path: string) => boolean): string[] {
  const whole = expandHome(args.trim());
  if (whole !== "" && exists(whole)) return [whole];
  const words = splitShellWords(args);
  if (words.length === 0) throw new TransferArgsError("transfer needs a file: transfer <path>");
  return words.map(expandHome).flatMap((path) => expandWildcard(path, exists));
}

/**
 * A path whose last name holds a wildcard (`*`, `?`, `[...]`) and names nothing as typed: the
 * names of its folder that match, sorted, as a shell would give them (`transfer ~/pics/*.jpg`;
 * a name starting with "." only for a pattern that does). No match, a wildcard in a folder's
 * name, or a folder that cannot be read: the path as typed (its error says nothing matched).
 */
function expandWildcard(path: string, exists: (path: string) => boolean): string[] {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const pattern = path.slice(slash + 1);
  if (!/[*?[]/.test(pattern) || /[*?[]/.test(dir) || exists(path)) return [path];
  let names: string[];
  try {
    names = (require("node:fs") as typeof import("node:fs")).readdirSync(dir === "" ? "." : dir);
  } catch {
    return [path];
  }
  const wildcard = compileWildcard(pattern);
  if (!wildcard) return [path];
  const hidden = pattern.startsWith(".");
  const hits = names.filter((name) => (hidden || !name.startsWith(".")) && wildcardMatches(wildcard, name)).sort();
  return hits.length === 0 ? [path] : hits.map((name) => dir + name);
}

/**
 * parseTransferPaths for a chat's `transfer` line: arguments that cannot be read as paths are
 * said as one Error line (`say`) and give undefined; the chat goes on.
 */
export function transferPathsOrSay(
  args: string,
  exists: (path: string) => boolean,
  say: (line: string) => void,
): string[] | undefined {
  try {
    return parseTransferPaths(args, exists);
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

function splitShellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) word += text[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new TransferArgsError(`the ${quote} quote is not closed, so nothing was sent: ${text.trim()}`);
  if (inWord) words.push(word);
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
  const parts = text
    .trim()
    .toLowerCase()
    .split(/[\s-]+/);
  if (parts.length !== 3 || !/^\d{1,9}$/.test(parts[0] as string)) return false;
  if (Number(parts[0]) < 1024) return true;
  const { EVEN_WORDS, ODD_WORDS } =
    require("../crypto/wormhole-words.ts") as typeof import("../crypto/wormhole-words.ts");
  return ODD_WORDS.includes(parts[1] as string) && EVEN_WORDS.includes(parts[2] as string);
}
