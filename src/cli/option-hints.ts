/**
 * Hints for a mistyped command line, added to the usage line's message (loaded only then, not at
 * start-up): an option this command does not take is likely a typo of one it does (`--dri`), one
 * of another command's (`send --dir`), or a code flag from a habit of magic-wormhole or of the
 * other command (`receive --to CODE`, `send --code CODE`); an unknown command word is likely a
 * typo (`sned`) or a code given where croc takes it (`parley 40123-ribbon-walnut`).
 */

import type { OptionSpecs } from "./flags.ts";
import { isMailboxCode } from "./input.ts";

type CommandName = "chat" | "send" | "receive";

/** What the command calls the peer's code, for a code flag it does not take. */
const CODE_FLAG_HINTS: Record<CommandName, { readonly names: readonly string[]; readonly hint: string }> = {
  chat: { names: ["to", "code"], hint: "the peer's code goes after --connect: parley --connect CODE" },
  send: {
    names: ["connect", "code"],
    hint: "the receiver's code goes after --to: parley send PATHS --to CODE; without --to, send shows a code of its own",
  },
  receive: {
    names: ["to", "connect", "code"],
    hint: "the sender's code goes alone after receive: parley receive CODE",
  },
};

/**
 * Optimal string alignment distance (Levenshtein with adjacent transpositions, so `dri` is one
 * edit from `dir`). Inputs are option names: a few dozen characters at most.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const above = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min((above[j] as number) + 1, (row[j - 1] as number) + 1, (above[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = best;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The one candidate nearest to `typed` (at most 2 edits, 1 for short words), if exactly one is. */
export function nearest(typed: string, candidates: readonly string[]): string | undefined {
  const limit = typed.length <= 4 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = limit + 1;
  let ties = 0;
  for (const candidate of candidates) {
    const distance = editDistance(typed.toLowerCase(), candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      ties = 0;
    } else if (distance === bestDistance) {
      ties++;
    }
  }
  return ties === 0 ? best : undefined;
}

/**
 * The hint for `--option`, which `command` does not take, or undefined.
 * @param commands - every command with its option specs (cli.ts's table)
 */
export function unknownOptionHint(
  option: string,
  command: CommandName,
  commands: readonly { readonly name: CommandName; readonly args: OptionSpecs }[],
): string | undefined {
  const codeFlag = CODE_FLAG_HINTS[command];
  if (codeFlag.names.includes(option)) return codeFlag.hint;
  const others = commands.filter((c) => c.name !== command && Object.hasOwn(c.args, option)).map((c) => c.name);
  if (others.length > 0) {
    const where = others.map((name) => `parley ${name}`).join(" and ");
    return `an option of ${where}, not of parley ${command}`;
  }
  const own = commands.find((c) => c.name === command);
  const near = own === undefined ? undefined : nearest(option, Object.keys(own.args));
  return near === undefined ? undefined : `did you mean --${near}?`;
}

/** A code's shape: [host:]port-word-word, a direct code or a mailbox code (nameplate-word-word). */
function looksLikeCode(text: string): boolean {
  return /^([^\s:]+:)?\d+-[a-z]+-[a-z]+/i.test(text);
}

/** The hint for a code typed as separate words (`receive 3 inertia fallout`), or undefined. */
export function spacedCodeHint(words: readonly string[]): string | undefined {
  const joined = words.join("-");
  return looksLikeCode(joined) ? `a code is one word, joined by dashes: ${joined}` : undefined;
}

/** The hint for an unknown command word `word`, or undefined. */
export function unknownCommandHint(word: string): string | undefined {
  // croc takes the code as its first word (`croc CODE`); magic-wormhole users may try it too.
  if (looksLikeCode(word)) {
    // A mailbox code is refused without the peer's mailbox (input.ts): the command given says which.
    if (isMailboxCode(word)) {
      return `to receive from the peer with that mailbox code: parley receive ${word} --relay; to chat: parley --connect ${word} --relay; or --relay-url URL instead of --relay, for the peer's own mailbox server`;
    }
    return `to receive from the peer with that code: parley receive ${word}; to chat: parley --connect ${word}`;
  }
  if (word === "recv") return "did you mean parley receive?";
  const near = nearest(word, ["chat", "send", "receive", "help"]);
  return near === undefined ? undefined : `did you mean parley ${near}?`;
}
