/**
 * The mailbox rendezvous: meeting through a magic-wormhole mailbox server instead of a port.
 * It ends in what the direct rendezvous ends in (a sealed FrameChannel, the peer's HELLO, how
 * it was verified), so the session never learns how the connection was made.
 *
 * 1. Open the mailbox; allocate a code (the side that waits) or join one (the side given it).
 *    Our version message says `app_versions.parley = {hello: hex(HELLO body)}`.
 * 2. The peer's version message opens (the code was right). A Parley peer's HELLO is in it; a
 *    plain wormhole client (no `parley` in its app_versions) is handed back as a PlainPeer
 *    (plain-peer.ts), which speaks its file-transfer protocol.
 * 3. Parley peers send each other transit hints (direct addresses unless --no-listen, the
 *    transit relay if one is configured) and race them (net/transit.ts). The side that made
 *    the code is the transit sender.
 * 4. On the winning connection Parley's records are sealed from the first byte with keys from
 *    the wormhole key (crypto/wormhole-keys.ts); the mailbox stays open (holding the code) until
 *    `release()`.
 */

import { opensFirstRecord } from "../crypto/record.ts";
import { SecureConnection } from "../crypto/secure-connection.ts";
import { parleyWormholeKeys, transitSecrets } from "../crypto/wormhole-keys.ts";
import {
  connectTransit,
  directHints,
  type TransitHint,
  TransitListener,
  type TransitPath,
  type TransitPlan,
} from "../net/index.ts";
import {
  APP_NAME,
  encodeMessage,
  FrameType,
  HEADER_BYTES,
  type Hello,
  MAX_CONTROL_BYTES,
  makeHello,
  OWN_FEATURES,
  PROTOCOL_VERSION,
  parseHints,
  parseMessage,
  transitValue,
} from "../protocol/index.ts";
import { FrameChannel } from "./channel.ts";
import { WormholeError } from "./mailbox-client.ts";
import { withinConnectedTime } from "./mailbox-deadline.ts";
import { hexBytes } from "./mailbox-input.ts";
import { PlainPeer } from "./plain-peer.ts";
import type { Security } from "./rendezvous.ts";
import { type MailboxLinkListener, Wormhole } from "./wormhole.ts";

/** How long to look for a path to the peer (direct or relay) before giving up. */
export const TRANSIT_TIMEOUT_MS = 30_000;
export { SERVER_ANSWER_MS } from "./mailbox-answers.ts";
/** How long direct hints have before the relay is tried as well (transit.py waits 2 s). */
export const RELAY_DELAY_MS = 2_000;

export interface MailboxRendezvousOptions {
  /** ws://HOST:PORT/v1 */
  readonly mailboxUrl: string;
  /** Our transit relay, if any. */
  readonly transitHelper?: TransitHint;
  /** Open no listening socket (the relay is then the only path from our side). */
  readonly noListen?: boolean;
  /** The addresses our direct hints name (default: this machine's beyond loopback, localAddresses). */
  readonly hintAddresses?: readonly string[];
  /** Our HELLO nonce (the rendezvous's, so it can tell which side leads). */
  readonly nonce?: string;
  /** The features our HELLO offers (the rendezvous's; default OWN_FEATURES). */
  readonly features?: readonly string[];
  /** Join this code; without it, a code is allocated. */
  readonly code?: string;
  readonly name?: string;
  readonly timeoutMs?: number;
  /**
   * The side that made the code: how long the peer has, once its key exchange message came, for
   * the version that follows it (at most `timeoutMs`, its default; tests lower it).
   */
  readonly keyExchangeMs?: number;
  /** A plain wormhole peer's time to confirm our text message (at most `timeoutMs`, its default; tests lower it). */
  readonly textAckMs?: number;
  /** How long the server has to answer each request, or hand back what we added (SERVER_ANSWER_MS), and to welcome us. */
  readonly serverAnswerMs?: number;
  /** How long the mailbox connection may be idle before a ping checks it (IDLE_CHECK_MS; tests lower it). */
  readonly idleCheckMs?: number;
  /** The longest pause between tries of a lost mailbox connection (RETRY_MAX_MS; tests lower it). */
  readonly longestPauseMs?: number;
  readonly relayDelayMs?: number;
  /** How long the path (direct or relay) has once the hints are exchanged (timeoutMs when not given; tests lower it alone). */
  readonly pathTimeoutMs?: number;
  /** Aborting closes the mailbox: the meeting fails with E_MAILBOX_LOST. */
  readonly signal?: AbortSignal;
  /** After an abort: settles once the mailbox has let go (the server said so, or a short wait). */
  readonly onLetGo?: (closed: Promise<void>) => void;
  /** The code is known (allocated, or the one given). */
  readonly onCode?: (code: string) => void;
  /**
   * How long a mailbox connection lost before the peer is met (and a path found) is tried again
   * before the meeting fails with E_MAILBOX_LOST: MAILBOX_RETRY_MS when not given, and at most.
   */
  readonly retryMs?: number;
  /**
   * The mailbox connection was lost (it is tried again for up to `withinMs`, once per loss) or is
   * back: the Wormhole's own list of listeners, beside its deadlines.
   */
  readonly onMailboxChange?: MailboxLinkListener;
}

export interface ParleyMeeting {
  readonly kind: "parley";
  readonly channel: FrameChannel;
  readonly peer: Hello;
  readonly security: Security;
  readonly path: TransitPath;
  /** The relay's address (path "relay") or the peer's. */
  readonly address: string;
  /** The peer dialed our transit listener (TransitResult.dialedIn). */
  readonly dialedIn: boolean;
  /** Closes the mailbox (and lets go of the code); call when the session is over. */
  release(): Promise<void>;
}

export interface PlainMeeting {
  readonly kind: "plain";
  /** A plain wormhole client (no Parley greeting): its file-transfer protocol, one transfer. */
  readonly peer: PlainPeer;
}

export type MailboxMeeting = ParleyMeeting | PlainMeeting;

const utf8 = new TextEncoder();
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function parseJson(bytes: Uint8Array): Record<string, unknown> {
  try {
    const value = JSON.parse(decode(bytes)) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {}
  throw new WormholeError("E_PEER_PROTOCOL", "the peer sent a message that is not a JSON object");
}

/** Most hex characters of a Parley greeting: a HELLO body is a control frame's (MAX_CONTROL_BYTES). */
export const MAX_GREETING_CHARS = 2 * MAX_CONTROL_BYTES;

/**
 * The Parley HELLO in a peer's version message, or undefined for a plain wormhole client. Its
 * length is bounded before its characters are looked at: the version message may be megabytes
 * (the mailbox takes up to 32 Mi characters), and a regex over a million took 0.9 s.
 * @throws WormholeError E_PEER_PROTOCOL for a greeting too long, not hex, or not a HELLO of ours
 */
export function parleyHello(versions: Record<string, unknown>): Hello | undefined {
  const apps = versions.app_versions as Record<string, unknown> | undefined;
  const parley = apps?.parley as { hello?: unknown } | undefined;
  if (!parley) return undefined;
  if (typeof parley.hello === "string" && parley.hello.length > MAX_GREETING_CHARS) {
    throw new WormholeError(
      "E_PEER_PROTOCOL",
      `the peer's Parley greeting is too long (${parley.hello.length} characters, at most ${MAX_GREETING_CHARS})`,
    );
  }
  const body = typeof parley.hello === "string" && parley.hello.length > 0 ? hexBytes(parley.hello) : undefined;
  if (!body) throw new WormholeError("E_PEER_PROTOCOL", "the peer's Parley greeting is malformed");
  let hello: Hello;
  try {
    const message = parseMessage({ type: FrameType.Hello, payload: body });
    if (message.kind !== "hello") throw new Error("not a HELLO");
    hello = message;
  } catch (cause) {
    throw new WormholeError("E_PEER_PROTOCOL", "the peer's Parley greeting is malformed", { cause });
  }
  if (hello.app !== APP_NAME || hello.v !== PROTOCOL_VERSION) {
    throw new WormholeError("E_PEER_PROTOCOL", `the peer speaks Parley protocol ${hello.v}, not ${PROTOCOL_VERSION}`);
  }
  return hello;
}

function ourHints(
  listener: TransitListener | undefined,
  relay: TransitHint | undefined,
  addresses?: readonly string[],
): Record<string, unknown> {
  const direct = listener ? directHints(listener.port, addresses) : [];
  return transitValue(direct, relay ? [relay] : []);
}

/** Waits for the peer's next message that has `key`, skipping others (as the wormhole clients do). */
async function nextWith(wormhole: Wormhole, keys: string[]): Promise<Record<string, unknown>> {
  for (;;) {
    const message = parseJson(await wormhole.nextMessage());
    if (typeof message.error === "string") {
      throw new WormholeError("E_PEER_PROTOCOL", `the peer gave up: ${message.error.slice(0, 200)}`);
    }
    if (keys.some((k) => k in message)) return message;
  }
}

/**
 * Meets a peer through the mailbox and finds a path to it.
 * @throws WormholeError (mailbox unreachable, nameplate unknown or taken, wrong code, ...)
 * @throws TransitError (relay unreachable, no path)
 */
export async function meetThroughMailbox(options: MailboxRendezvousOptions): Promise<MailboxMeeting> {
  const nonce = options.nonce ?? Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex");
  const joining = options.code !== undefined;
  const features = options.features ?? OWN_FEATURES;
  const hello = encodeMessage(makeHello(nonce, options.name, features, joining ? "code" : "listen"));
  const versions = {
    app_versions: { parley: { v: PROTOCOL_VERSION, hello: Buffer.from(hello.subarray(HEADER_BYTES)).toString("hex") } },
  };
  // Aborted while the mailbox is still being reached: nothing is held there yet, so the let-go
  // is done at once (the opening is given up: Wormhole.open throws).
  const abortedEarly = (): void => options.onLetGo?.(Promise.resolve());
  if (options.signal?.aborted) abortedEarly();
  else options.signal?.addEventListener("abort", abortedEarly, { once: true });
  const wormhole = await Wormhole.open(options.mailboxUrl, versions, options.code, undefined, {
    ...(options.retryMs === undefined ? {} : { withinMs: options.retryMs }),
    ...(options.onMailboxChange ? { listener: options.onMailboxChange } : {}),
    ...(options.serverAnswerMs === undefined ? {} : { serverAnswerMs: options.serverAnswerMs }),
    ...(options.idleCheckMs === undefined ? {} : { idleCheckMs: options.idleCheckMs }),
    ...(options.longestPauseMs === undefined ? {} : { longestPauseMs: options.longestPauseMs }),
    ...(options.signal ? { signal: options.signal } : {}),
  }).finally(() => options.signal?.removeEventListener("abort", abortedEarly));
  const letGo = (): void => options.onLetGo?.(wormhole.close("lonely"));
  if (options.signal?.aborted) letGo();
  else options.signal?.addEventListener("abort", letGo, { once: true });
  let listener: TransitListener | undefined;
  try {
    // A server that does not answer (the code, our claim, the key exchange message handed back)
    // within its time fails the Wormhole (E_MAILBOX_SILENT): mailbox-answers.ts.
    const code = await wormhole.code.promise;
    options.onCode?.(code);
    const timeoutMs = options.timeoutMs ?? TRANSIT_TIMEOUT_MS;
    const keyExchangeMs = Math.min(options.keyExchangeMs ?? timeoutMs, timeoutMs);
    // The side that made the code waits for its peer as long as it takes; the side given the
    // code finds the peer there already, or its PAKE message left behind by a peer that left.
    // Once the peer's key exchange message came, its version follows at once (no person in
    // between): one that does not come is a peer that died in between, and the code is used
    // up (the mailbox has its two sides), so waiting on would show a code nobody can use.
    const verified = joining
      ? withinConnectedTime(
          wormhole,
          wormhole.verified.promise,
          timeoutMs,
          () => new WormholeError("E_PEER_GONE", `it did not answer in the mailbox within ${timeoutMs / 1000} s`),
        )
      : Promise.race([wormhole.keyed.promise, wormhole.verified.promise]).then(() =>
          withinConnectedTime(
            wormhole,
            wormhole.verified.promise,
            keyExchangeMs,
            () =>
              new WormholeError(
                "E_PEER_GONE",
                `it began the key exchange but did not finish it within ${keyExchangeMs / 1000} s, and the code is used up: start again for a new one`,
              ),
          ),
        );
    const { key, versions: theirs } = await verified;
    const peer = parleyHello(theirs);
    if (!peer) {
      const plain = new PlainPeer(wormhole, key, {
        ...(options.transitHelper ? { transitHelper: options.transitHelper } : {}),
        noListen: options.noListen === true,
        ...(options.hintAddresses ? { hintAddresses: options.hintAddresses } : {}),
        timeoutMs,
        ...(options.textAckMs === undefined ? {} : { textAckMs: options.textAckMs }),
        relayDelayMs: options.relayDelayMs ?? RELAY_DELAY_MS,
      });
      return { kind: "plain", peer: plain };
    }
    const role = joining ? "receiver" : "sender";
    const secrets = transitSecrets(key, wormhole.side);
    const expect = role === "sender" ? secrets.receiverHandshake : secrets.senderHandshake;
    // Its line proves a dial that comes before our race starts (the peer had our hints first).
    listener = options.noListen ? undefined : new TransitListener(undefined, [expect]);
    wormhole.send(
      utf8.encode(JSON.stringify({ transit: ourHints(listener, options.transitHelper, options.hintAddresses) })),
    );
    const theirHints = parseHints(
      (
        await withinConnectedTime(
          wormhole,
          nextWith(wormhole, ["transit"]),
          timeoutMs,
          () => new WormholeError("E_PEER_PROTOCOL", "the peer sent no connection hints"),
        )
      ).transit,
    );
    const relays = [...(options.transitHelper ? [options.transitHelper] : []), ...theirHints.relays].filter(
      (r, i, all) => all.findIndex((o) => o.host === r.host && o.port === r.port) === i,
    );
    const keys = parleyWormholeKeys(key, role);
    const plan: TransitPlan = {
      role,
      send: role === "sender" ? secrets.senderHandshake : secrets.receiverHandshake,
      expect,
      relayHandshake: secrets.relayHandshake,
      direct: theirHints.direct,
      relays,
      relayDelayMs: options.relayDelayMs ?? RELAY_DELAY_MS,
      timeoutMs: options.pathTimeoutMs ?? timeoutMs,
      // The sender's first record proves a relayed "go" its own. Not senderWritesFirst: the first
      // frame here is the leader's READY (rendezvous.ts pickIfLeader; the HELLOs came through the
      // mailbox), and a sender that is not the leader writes nothing before ours: the grace stays.
      ...(role === "receiver" ? { senderRecord: (bytes: Uint8Array) => opensFirstRecord(keys.receiveKey, bytes) } : {}),
    };
    let transit: Awaited<ReturnType<typeof connectTransit>>;
    try {
      transit = await connectTransit(plan, listener);
    } catch (err) {
      keys.sendKey.fill(0);
      keys.receiveKey.fill(0);
      throw err;
    }
    const secure = new SecureConnection(transit.connection);
    secure.startSealing(keys.sendKey);
    secure.startOpening(keys.receiveKey);
    keys.sendKey.fill(0);
    keys.receiveKey.fill(0);
    // Met, and a path stands: the mailbox only holds the code now. A connection lost from here
    // on ends nothing and is not opened again (the server prunes the nameplate we hold).
    wormhole.quiet();
    return {
      kind: "parley",
      channel: new FrameChannel(
        secure,
        role === "sender" ? "accepted" : "dialed",
        transit.path === "relay",
        transit.dialedIn,
      ),
      peer,
      security: { mode: "code", verification: keys.verification },
      path: transit.path,
      address: transit.address,
      dialedIn: transit.dialedIn,
      release: () => wormhole.close("happy"),
    };
  } catch (err) {
    listener?.stop();
    await wormhole.close(err instanceof WormholeError && err.code === "E_WRONG_CODE" ? "scary" : "errory");
    throw err;
  }
}
