/**
 * The flags of the mailbox flow (the same names as the wormhole CLI's): which magic-wormhole
 * mailbox server and transit relay to use, and whether to listen for direct connections.
 * Nothing is contacted unless one of them (or its environment variable) is given.
 */

import type * as WormholeCode from "../crypto/wormhole-code.ts";
import { readCodeFile, type Warn } from "./codes.ts";
import { type FlagValues, type OptionSpecs, UsageError } from "./flags.ts";

/** The public magic-wormhole servers (`--relay`). */
export const PUBLIC_MAILBOX_URL = "ws://relay.magic-wormhole.io:4000/v1";
export const PUBLIC_TRANSIT_HELPER = "tcp:transit.magic-wormhole.io:4001";

/** The mailbox flow's options (their help lines are generated with the others'). */
export const MAILBOX_FLAGS = {
  "relay-url": {
    type: "string",
    value: "URL",
    help: "meet through this magic-wormhole mailbox server, ws://HOST:PORT/v1\n(or WORMHOLE_RELAY_URL): codes become like 7-crossover-clockwork",
  },
  "transit-helper": {
    type: "string",
    value: "tcp:HOST:PORT",
    help: "the transit relay to use when no direct path works (or WORMHOLE_TRANSIT_HELPER)",
  },
  relay: {
    type: "boolean",
    help: `the public magic-wormhole servers where the two above are not given:\n${PUBLIC_MAILBOX_URL}, ${PUBLIC_TRANSIT_HELPER}`,
  },
  "no-listen": {
    type: "boolean",
    help: "open no port for direct connections (this side only dials the peer's);\nwith it on both sides only the relay path remains",
  },
} as const satisfies OptionSpecs;

export interface MailboxConfig {
  readonly mailboxUrl: string;
  readonly transitHelper?: { readonly host: string; readonly port: number };
  readonly noListen: boolean;
  /** PARLEY_HINT_ADDRESSES: the only addresses our direct hints name (default: this machine's, localAddresses). */
  readonly hintAddresses?: readonly string[];
  /** PARLEY_MAILBOX_RETRY_MS: how long a lost mailbox connection is tried again (ms; the session caps it). */
  readonly retryMs?: number;
  /** PARLEY_MAILBOX_CHECK_MS: how long the connection may be idle before a ping checks it (ms; for tests). */
  readonly checkMs?: number;
  /** PARLEY_MAILBOX_ANSWER_MS: how long the server has to answer a request or welcome us (ms; for tests; the session caps it). */
  readonly answerMs?: number;
  /** PARLEY_MAILBOX_PAUSE_MS: the longest pause between tries of a lost connection (ms; for tests; the session caps it). */
  readonly pauseMs?: number;
  /** PARLEY_MAILBOX_KEY_EXCHANGE_MS: the peer's time for its version after its key exchange message (ms; for tests; at most 30 s). */
  readonly keyExchangeMs?: number;
  /** PARLEY_MAILBOX_TEXT_ACK_MS: a plain wormhole receiver's time to confirm our text (ms; for tests; at most 30 s). */
  readonly textAckMs?: number;
}

/**
 * PARLEY_MAILBOX_RETRY_MS (whole milliseconds): how long a mailbox connection lost before the
 * peer is met is tried again, for the tests of giving up; the session caps it at its 5 minutes
 * (MAILBOX_RETRY_MS), so it can only shorten the wait. PARLEY_MAILBOX_CHECK_MS (for tests too):
 * how long the connection may be idle before a ping asks whether it stands; at most IDLE_CHECK_MS
 * (30 s). PARLEY_MAILBOX_ANSWER_MS (for tests too): how long the server has to answer a request,
 * and to welcome a connection being opened; at most SERVER_ANSWER_MS and OPEN_TIMEOUT_MS (10 s each).
 * PARLEY_MAILBOX_PAUSE_MS (for tests too): the longest pause between tries of a lost connection,
 * the first a twentieth of it; at most RETRY_MAX_MS (5 s). PARLEY_MAILBOX_KEY_EXCHANGE_MS (for tests
 * too): on the side that made the code, how long the peer has for its version once its key
 * exchange message came; at most TRANSIT_TIMEOUT_MS (30 s). PARLEY_MAILBOX_TEXT_ACK_MS (for tests
 * too): how long a plain wormhole receiver has to confirm our text message (E_NO_ACK); at most
 * TRANSIT_TIMEOUT_MS. Unset or not a positive integer: the default.
 */
function retryFromEnv(env: Readonly<Record<string, string | undefined>>): {
  retryMs?: number;
  checkMs?: number;
  answerMs?: number;
  pauseMs?: number;
  keyExchangeMs?: number;
  textAckMs?: number;
} {
  const ms = (value: string | undefined) =>
    value !== undefined && /^[1-9]\d{0,8}$/.test(value) ? Number(value) : undefined;
  const retryMs = ms(env.PARLEY_MAILBOX_RETRY_MS);
  const checkMs = ms(env.PARLEY_MAILBOX_CHECK_MS);
  const answerMs = ms(env.PARLEY_MAILBOX_ANSWER_MS);
  const pauseMs = ms(env.PARLEY_MAILBOX_PAUSE_MS);
  const keyExchangeMs = ms(env.PARLEY_MAILBOX_KEY_EXCHANGE_MS);
  const textAckMs = ms(env.PARLEY_MAILBOX_TEXT_ACK_MS);
  return {
    ...(retryMs === undefined ? {} : { retryMs }),
    ...(checkMs === undefined ? {} : { checkMs }),
    ...(answerMs === undefined ? {} : { answerMs }),
    ...(pauseMs === undefined ? {} : { pauseMs }),
    ...(keyExchangeMs === undefined ? {} : { keyExchangeMs }),
    ...(textAckMs === undefined ? {} : { textAckMs }),
  };
}

/** A dotted-quad IPv4 address, each part 0-255 without a leading zero (as node:net's isIPv4). */
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * PARLEY_HINT_ADDRESSES: IPv4 addresses (the transit listener's, 0.0.0.0), separated by commas or
 * spaces, that our direct hints name instead of every address of this machine beyond loopback
 * (net/transit.ts localAddresses). For a
 * machine whose other addresses (a container bridge, a VPN) the peer should not be given, and for
 * the tests (127.0.0.1 only: their connections stay on loopback). Unset or blank: the default.
 * @throws UsageError when an entry is not an IPv4 address
 */
export function hintAddressesFromEnv(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const entries = (env.PARLEY_HINT_ADDRESSES ?? "").split(/[\s,]+/).filter((a) => a !== "");
  if (entries.length === 0) return undefined;
  const bad = entries.find((a) => !IPV4.test(a));
  if (bad !== undefined) {
    throw new UsageError(
      `PARLEY_HINT_ADDRESSES must list IPv4 addresses separated by commas (e.g. 127.0.0.1), not ${JSON.stringify(bad.slice(0, 64))}`,
    );
  }
  return [...new Set(entries)];
}

/** tcp:HOST:PORT (HOST may be [IPv6]). */
export function parseTransitHelper(text: string): { host: string; port: number } {
  const m = /^tcp:(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) {
    throw new UsageError(`--transit-helper must look like tcp:HOST:PORT (e.g. tcp:127.0.0.1:4001), not "${text}"`);
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ""), port };
}

/**
 * The mailbox configuration from the flags and the environment, or undefined when none of
 * them is given (the direct flow).
 * @throws UsageError on a malformed URL or helper, or --transit-helper / --no-listen without a mailbox
 */
export function mailboxFlags(
  values: FlagValues,
  env: Readonly<Record<string, string | undefined>> = process.env,
): MailboxConfig | undefined {
  const publicServers = values.relay === true;
  const url =
    (values["relay-url"] as string | undefined) ??
    (env.WORMHOLE_RELAY_URL || undefined) ??
    (publicServers ? PUBLIC_MAILBOX_URL : undefined);
  const helper =
    (values["transit-helper"] as string | undefined) ??
    (env.WORMHOLE_TRANSIT_HELPER || undefined) ??
    (publicServers ? PUBLIC_TRANSIT_HELPER : undefined);
  const noListen = values["no-listen"] === true;
  if (url === undefined) {
    if (values["transit-helper"] !== undefined || noListen) {
      throw new UsageError(
        `${noListen ? "--no-listen" : "--transit-helper"} needs a mailbox: add --relay-url URL or --relay`,
      );
    }
    return undefined;
  }
  // The scheme and a host first; then the whole of it as a URL (an unclosed [IPv6, a space in the
  // host, a port past 65535), which the WebSocket would refuse only once the run had started.
  if (!/^wss?:\/\/[^\s/]+/.test(url) || !URL.canParse(url)) {
    throw new UsageError(`--relay-url must be a WebSocket address like ws://HOST:PORT/v1, not "${url}"`);
  }
  const hintAddresses = hintAddressesFromEnv(env);
  return {
    mailboxUrl: url,
    ...(helper === undefined ? {} : { transitHelper: parseTransitHelper(helper) }),
    noListen,
    ...(hintAddresses === undefined ? {} : { hintAddresses }),
    ...retryFromEnv(env),
  };
}

/**
 * The peer's mailbox code from --code-file or PARLEY_CODE (kept out of argv), or undefined.
 * @throws UsageError when the file cannot be read or holds no mailbox code
 */
export function mailboxCodeFromEnvironment(
  codeFile: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  warn: Warn = () => {},
): string | undefined {
  let code: string | undefined;
  const source = codeFile === undefined ? "PARLEY_CODE" : `--code-file ${codeFile}`;
  if (codeFile !== undefined) code = readCodeFile(codeFile, warn);
  else code = env.PARLEY_CODE;
  if (code === undefined || (codeFile === undefined && code.trim() === "")) return undefined;
  // Loaded here, with a mailbox only: the direct chat's start-up does without its word lists.
  const { parseWormholeCode } = require("../crypto/wormhole-code.ts") as typeof WormholeCode;
  const parsed = parseWormholeCode(code);
  if (!parsed) throw new UsageError(`${source} does not hold a mailbox code (like 7-crossover-clockwork)`);
  return parsed.code;
}

/**
 * A usage error's line for a mailbox code given to the chat before the run: one that looks
 * mistyped (mistypedMailboxCode), or, from `--connect` (`connect`), one that is not a mailbox
 * code at all; undefined when it can be tried.
 */
export function mailboxCodeProblem(code: string, connect: boolean): string | undefined {
  const { parseWormholeCode } = require("../crypto/wormhole-code.ts") as typeof WormholeCode;
  const parsed = parseWormholeCode(code);
  if (parsed) return mistypedMailboxCode(parsed);
  return connect ? "--connect: not a mailbox code (like 7-crossover-clockwork)" : undefined;
}

/**
 * A usage error's line for a mailbox code given before the run (on the command line, in
 * PARLEY_CODE or a --code-file, --connect) that looks mistyped (wormholeCodeTypo), or undefined.
 * Nothing is tried: a wrong code would spend the peer's code. A code the peer chose with such
 * words is tried as typed at the chat's code prompt, typed twice (MailboxChat.join).
 * @param code - as parseWormholeCode gave it
 */
export function mistypedMailboxCode(code: WormholeCode.WormholeCode): string | undefined {
  const { wormholeCodeTypo } = require("../crypto/wormhole-code.ts") as typeof WormholeCode;
  const typo = wormholeCodeTypo(code.code);
  if (typo === undefined) return undefined;
  return `${code.code} looks mistyped, nothing was tried (a mailbox code is good for one try): ${typo}. If the peer chose it as it is, type it twice at the code prompt of parley (the chat, with the same mailbox)`;
}
