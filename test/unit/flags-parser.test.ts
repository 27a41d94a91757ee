/**
 * parseFlags (src/cli/flags.ts) is our own loop instead of node:util's parseArgs, which cost
 * milliseconds of start-up to load. Here parseArgs is the oracle: every sequence of up to
 * three arguments from a set of awkward ones, against each command's real option specs, gives
 * the same values, positionals or error line as parseArgs with the wording we used to derive
 * from its errors. One difference on purpose: parseArgs names an unknown letter inside a group
 * (`-hx`) without its dash, which made the old line "unknown option " (or "--") naming nothing.
 */

import { describe, expect, test } from "bun:test";
import { parseArgs } from "node:util";
import { CHAT_OPTIONS } from "../../src/cli/args.ts";
import { RECEIVE_OPTIONS, SEND_OPTIONS } from "../../src/cli/command-args.ts";
import { type OptionSpecs, parseFlags, UsageError } from "../../src/cli/flags.ts";

/** The parsing as it was: parseArgs, its errors turned into our lines. */
function parsedByNode(argv: readonly string[], specs: OptionSpecs, allowPositionals: boolean) {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, { type, short }]) => [name, short ? { type, short } : { type }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: [...argv], strict: true, allowPositionals, options });
    return { values: { ...values }, positionals };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: string }).code;
    const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? "";
    if (/argument is ambiguous/.test(message))
      return { error: `${option} needs a value, and it cannot start with "-"` };
    switch (code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
        return { error: `unknown option ${option}` };
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        return { error: /argument missing/.test(message) ? `${option} needs a value` : `${option} takes no value` };
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        return { error: `unexpected argument "${/'([^']*)'/.exec(message)?.[1]}"` };
      default:
        return { error: message };
    }
  }
}

function parsedByUs(argv: readonly string[], specs: OptionSpecs, allowPositionals: boolean) {
  try {
    const { values, positionals } = parseFlags(argv, specs, allowPositionals);
    return { values: { ...values }, positionals };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return { error: err.message };
  }
}

const AWKWARD = [
  "--port",
  "5",
  "-5",
  "--port=-5",
  "--port=",
  "--dir",
  "-",
  "--",
  "foo",
  "--json",
  "--json=1",
  "--no-progress",
  "-h",
  "-hv",
  "-hx",
  "-x",
  "--nope=1",
  "---x",
  "--name=a=b",
  "",
  "--constructor",
  "--stdout",
];

function* sequences(maxLength: number): Generator<string[]> {
  yield [];
  let level: string[][] = [[]];
  for (let n = 1; n <= maxLength; n++) {
    level = level.flatMap((seq) => AWKWARD.map((arg) => [...seq, arg]));
    yield* level;
  }
}

describe.each([
  ["chat", CHAT_OPTIONS, false],
  ["send", SEND_OPTIONS, true],
  ["receive", RECEIVE_OPTIONS, true],
] as const)("parseFlags with the %s options", (_name, specs, allowPositionals) => {
  test("the same as parseArgs for every sequence of up to 3 awkward arguments", () => {
    let compared = 0;
    for (const argv of sequences(3)) {
      const ours = parsedByUs(argv, specs, allowPositionals);
      const node = parsedByNode(argv, specs, allowPositionals);
      const oldLineNamedNothing = /^unknown option -{0,2}$/.test(node.error ?? "");
      if (oldLineNamedNothing && /^unknown option -[^-]$/.test(ours.error ?? "")) continue;
      expect({ argv, ...ours }).toEqual({ argv, ...node });
      compared++;
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  test("short names are for boolean options only", () => {
    for (const spec of Object.values(specs as OptionSpecs)) if (spec.short) expect(spec.type).toBe("boolean");
  });
});

test("an unknown letter in a group is named with its dash", () => {
  expect(parsedByUs(["-hx"], CHAT_OPTIONS, false)).toEqual({ error: "unknown option -x" });
});
