/**
 * PlainPeer: the conversation with a plain magic-wormhole client once the mailbox has verified
 * the key (mailbox-rendezvous.ts found no Parley greeting in its version message). It speaks the
 * file-transfer protocol (protocol/wormhole-transfer.ts) through the mailbox and opens the transit
 * connection for the one transfer a plain peer makes per code:
 *
 *   peer sends (wormhole send):     its transit + offer  ->  ours: transit + answer | error
 *   we send (wormhole receive):     our transit + offer  ->  its transit + answer | error
 *
 * The side that sends the file is the transit sender. The mailbox is closed once the transit
 * connection stands (or the exchange ends without one).
 */

import { opensFirstTransitRecord, transitRecordKeys, wormholeTransitKey } from "../crypto/transit-records.ts";
import { transitSecrets } from "../crypto/wormhole-keys.ts";
import { connectTransit, directHints, type TransitHint, TransitListener, type TransitPlan } from "../net/index.ts";
import {
  encodeAnswer,
  encodeError,
  encodeOffer,
  encodeTransit,
  type PlainMessage,
  type PlainOffer,
  ProtocolError,
  parsePlainMessage,
  type WireHints,
} from "../protocol/index.ts";
import { secondsWords, startConnectedDeadline } from "./mailbox-deadline.ts";
import { TransitPipe } from "./transit-pipe.ts";
import type { Wormhole } from "./wormhole.ts";

export type PlainErrorCode =
  /** The peer declined our offer, or gave up (`{"error": ...}`): `reason` is its words. */
  | "E_PEER_REFUSED"
  /** The peer broke the file-transfer protocol. */
  | "E_PEER_PROTOCOL"
  /** The peer sent no offer in time (it is waiting to receive too). */
  | "E_NO_OFFER"
  /** The peer did not acknowledge our text message in time (it failed or was stopped on its side). */
  | "E_NO_ACK";

export class PlainPeerError extends Error {
  override name = "PlainPeerError";
  constructor(
    readonly code: PlainErrorCode,
    message: string,
    /** The peer's own words (E_PEER_REFUSED), bounded. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export interface PlainPeerOptions {
  readonly transitHelper?: TransitHint;
  readonly noListen?: boolean;
  /** The addresses our direct hints name (default: this machine's beyond loopback, localAddresses). */
  readonly hintAddresses?: readonly string[];
  readonly timeoutMs: number;
  /** How long a text's `message_ack` may take (at most timeoutMs, its default; tests lower it). */
  readonly textAckMs?: number;
  readonly relayDelayMs: number;
}

/** An offer the peer made, and where it said it can be reached. */
export interface IncomingOffer {
  readonly offer: PlainOffer;
  readonly hints: WireHints;
}

/** Offers we make: a text message, one file, or a folder (a zip). */
type OutgoingOffer = Exclude<PlainOffer, { kind: "unknown" }>;
/** An offer carried over transit: one file, or a folder's zip. */
export type FileOffer = Exclude<OutgoingOffer, { kind: "message" }>;

const NO_HINTS: WireHints = { direct: [], relays: [] };

/**
 * Messages a wait for the peer's offer or answer takes before it gives up on the peer: the wormhole
 * client sends its transit hints and then that (two or three). Without a bound, a peer saying
 * something else for ever grew a wait with no deadline (the chat's for an offer, a file's answer)
 * by each message (MailboxPhases' seen set, a reaction on the wait's end; session 30). Half the
 * mailbox's own unread bound (MAX_UNREAD_MESSAGES, 64): a burst that ends the wait fits in the
 * inbox, so the peer hears this line, not the inbox's overflow (a burst of 65 under load did that).
 */
export const MAX_WAITED_MESSAGES = 32;

/** @throws PlainPeerError E_PEER_PROTOCOL past MAX_WAITED_MESSAGES */
function tooMany(taken: number, what: string): void {
  if (taken <= MAX_WAITED_MESSAGES) return;
  throw new PlainPeerError("E_PEER_PROTOCOL", `the wormhole peer sent ${MAX_WAITED_MESSAGES} messages and not ${what}`);
}

export class PlainPeer {
  private theirHints: WireHints = NO_HINTS;
  private listener: TransitListener | undefined;
  private closing: Promise<void> | undefined;
  /** The mailbox message being waited for (kept across an abandoned wait). */
  private pending: Promise<Uint8Array> | undefined;

  constructor(
    private readonly wormhole: Wormhole,
    private readonly key: Uint8Array,
    private readonly options: PlainPeerOptions,
  ) {}

  /**
   * Waits for the peer's offer (a `wormhole send`), taking its hints on the way.
   * @param wait.forever - no time limit (a chat waits for its user too); else timeoutMs
   * @param wait.signal - stops waiting (an AbortError); the message being awaited stays for `offerText`/`offerFile`
   * @param wait.heard - the peer sent a message (its transit hints come before a file's offer): it is sending
   * @throws PlainPeerError E_PEER_REFUSED (it gave up), E_NO_OFFER (none in time)
   * @throws WormholeError E_MAILBOX_LOST
   */
  async receiveOffer(
    wait: { forever?: boolean; signal?: AbortSignal; heard?: () => void } = {},
  ): Promise<IncomingOffer> {
    const end = this.waitEnd({
      ...(wait.forever ? {} : { timeoutMs: this.options.timeoutMs }),
      ...(wait.signal ? { signal: wait.signal } : {}),
    });
    try {
      for (let taken = 1; ; taken++) {
        const message = await this.next(end.stop);
        tooMany(taken, "an offer");
        wait.heard?.();
        if (message.transit) this.theirHints = message.transit;
        if (message.offer) return { offer: message.offer, hints: this.theirHints };
      }
    } finally {
      end.cancel();
    }
  }

  /** Takes a text offer: answers `message_ack` and closes the mailbox. */
  async acceptText(): Promise<void> {
    this.wormhole.send(encodeAnswer("message_ack"));
    await this.close("happy");
  }

  /** Declines the offer with `reason` (the peer shows it) and closes the mailbox. */
  async decline(reason: string): Promise<void> {
    if (this.closing) return this.closing;
    this.wormhole.send(encodeError(reason));
    await this.close("errory");
  }

  /**
   * Accepts a file (or folder) offer: our hints and `file_ack`, then the transit connection,
   * on which we are the receiver.
   * @param senderWritesFirst - the offer has bytes (a file's or zip's size above 0): the sender's
   *   first record follows its "go" at once (TransitPlan.senderWritesFirst); an empty file's
   *   sender writes nothing before our answer
   * @throws TransitError (no path), WormholeError
   */
  async acceptFile(senderWritesFirst = false): Promise<TransitPipe> {
    this.wormhole.send(encodeTransit(...this.ourHints()));
    this.wormhole.send(encodeAnswer("file_ack"));
    return this.connect("receiver", senderWritesFirst);
  }

  /**
   * Offers a text message and waits for its `message_ack` (timeoutMs: a `wormhole receive` shows
   * the text and answers at once, asking nobody); the mailbox is closed after it.
   * @throws PlainPeerError E_PEER_REFUSED (declined: its reason), E_PEER_PROTOCOL, E_NO_ACK (none in time)
   */
  async offerText(text: string): Promise<void> {
    await this.answered({ kind: "message", text }, "message_ack", {
      timeoutMs: Math.min(this.options.textAckMs ?? this.options.timeoutMs, this.options.timeoutMs),
      late: (seconds) =>
        new PlainPeerError(
          "E_NO_ACK",
          `the wormhole peer did not confirm the text message within ${seconds}: it failed or was stopped on its side (a wormhole client that gives up tells us nothing through the mailbox); it may have shown the text`,
        ),
    });
    await this.close("happy");
  }

  /**
   * Offers a file (or a folder's zip), our hints first as wormhole clients expect, and waits for
   * its `file_ack`, then the transit connection, on which we are the sender.
   * @throws PlainPeerError E_PEER_REFUSED (declined: its reason), E_PEER_PROTOCOL
   * @throws TransitError (no path), WormholeError
   */
  async offerFile(offer: FileOffer): Promise<TransitPipe> {
    this.wormhole.send(encodeTransit(...this.ourHints()));
    await this.answered(offer, "file_ack");
    return this.connect("sender");
  }

  /**
   * Sends `offer` and waits for the peer's `wanted` answer, taking its hints on the way.
   * @param wait - no time limit unless given (a file's receiver may ask its user first)
   */
  private async answered(
    offer: OutgoingOffer,
    wanted: "message_ack" | "file_ack",
    wait: { timeoutMs?: number; late?: (seconds: string) => PlainPeerError } = {},
  ): Promise<void> {
    this.wormhole.send(encodeOffer(offer));
    const end = this.waitEnd(wait);
    try {
      for (let taken = 1; ; taken++) {
        const message = await this.next(end.stop);
        tooMany(taken, "an answer");
        if (message.transit) this.theirHints = message.transit;
        if (message.offer) {
          // A `wormhole send` on the other end too: both offered, neither will receive.
          this.wormhole.send(encodeError("both sides are sending: one of you should receive"));
          throw new PlainPeerError("E_PEER_PROTOCOL", "the wormhole peer is sending too (it offered something)");
        }
        const answer = message.answer;
        if (!answer) continue;
        if (answer.kind !== wanted || !answer.ok) {
          throw new PlainPeerError("E_PEER_PROTOCOL", "the wormhole peer answered something else than ok");
        }
        return;
      }
    } finally {
      end.cancel();
    }
  }

  /** Closes the mailbox (and our listener); safe to call twice (the first mood counts). */
  close(mood: "happy" | "errory" = "happy"): Promise<void> {
    this.listener?.stop();
    this.closing ??= this.wormhole.close(mood);
    return this.closing;
  }

  /**
   * The end of a wait for the peer, which may take several of its messages (hints, then the
   * offer or answer): `timeoutMs` of connected time in all, or the abort. Started once for the
   * whole wait: per message, a peer saying anything else every few seconds (its hints again)
   * kept `parley send --text` waiting for ever, as `parley receive` for an offer.
   */
  private waitEnd(wait: { timeoutMs?: number; signal?: AbortSignal; late?: (seconds: string) => PlainPeerError }): {
    stop: Promise<never>;
    cancel: () => void;
  } {
    let cancelDeadline: (() => void) | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      if (wait.timeoutMs !== undefined) {
        // Counted while the mailbox is up: the peer cannot reach us while it is opened again.
        const seconds = secondsWords(wait.timeoutMs);
        cancelDeadline = startConnectedDeadline(this.wormhole, wait.timeoutMs, () => {
          // A mailbox server passes on neither a side's close nor its mood, so a peer that failed
          // on its side (wormhole-william's send when its relay's name does not resolve) and one
          // waiting to receive look the same from here: the words name both.
          reject(
            wait.late?.(seconds) ??
              new PlainPeerError(
                "E_NO_OFFER",
                `the wormhole peer sent no offer within ${seconds}: it failed or was stopped on its side (a wormhole client that gives up tells us nothing through the mailbox), or it is waiting to receive too`,
              ),
          );
        });
      }
      onAbort = () => reject(new DOMException("no longer waiting for the peer", "AbortError"));
      if (wait.signal?.aborted) onAbort();
      else wait.signal?.addEventListener("abort", onAbort, { once: true });
    });
    stop.catch(() => {}); // told to whoever races it; between two messages nobody does
    return {
      stop,
      cancel: () => {
        cancelDeadline?.();
        if (onAbort) wait.signal?.removeEventListener("abort", onAbort);
      },
    };
  }

  /**
   * The peer's next message (an `error` in it throws), or `stop`'s rejection first. A wait that
   * times out or is aborted leaves the message it was waiting for to the next call.
   */
  private async next(stop: Promise<never>): Promise<PlainMessage> {
    if (!this.pending) {
      this.pending = this.wormhole.nextMessage();
      this.pending.catch(() => {}); // a failure reaches whoever waits; nobody waiting is no crash
    }
    const bytes = await Promise.race([this.pending, stop]);
    this.pending = undefined;
    let message: PlainMessage;
    try {
      message = parsePlainMessage(bytes);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      throw new PlainPeerError("E_PEER_PROTOCOL", err.message);
    }
    if (message.error !== undefined)
      throw new PlainPeerError("E_PEER_REFUSED", "the wormhole peer gave up", message.error);
    return message;
  }

  private ourHints(): [TransitHint[], TransitHint[]] {
    if (!this.options.noListen && !this.listener) {
      // Either line proves a dial made before our race starts (the role is known only then).
      const { senderHandshake, receiverHandshake } = transitSecrets(this.key, this.wormhole.side);
      this.listener = new TransitListener(undefined, [senderHandshake, receiverHandshake]);
    }
    const listener = this.listener;
    const direct = listener ? directHints(listener.port, this.options.hintAddresses) : [];
    return [direct, this.options.transitHelper ? [this.options.transitHelper] : []];
  }

  private async connect(role: "sender" | "receiver", senderWritesFirst = false): Promise<TransitPipe> {
    const secrets = transitSecrets(this.key, this.wormhole.side);
    const transitKey = wormholeTransitKey(this.key);
    // Receiver: the sender's first record proves a relayed "go" its own (a forger cannot seal one).
    const senderKey = role === "receiver" ? transitRecordKeys(transitKey, "receiver").receiveKey : undefined;
    const relays = [...(this.options.transitHelper ? [this.options.transitHelper] : []), ...this.theirHints.relays];
    const plan: TransitPlan = {
      role,
      send: role === "sender" ? secrets.senderHandshake : secrets.receiverHandshake,
      expect: role === "sender" ? secrets.receiverHandshake : secrets.senderHandshake,
      relayHandshake: secrets.relayHandshake,
      direct: this.theirHints.direct,
      relays: relays.filter((r, i) => relays.findIndex((o) => o.host === r.host && o.port === r.port) === i),
      relayDelayMs: this.options.relayDelayMs,
      timeoutMs: this.options.timeoutMs,
      ...(senderKey
        ? { senderRecord: (bytes: Uint8Array) => opensFirstTransitRecord(senderKey, bytes), senderWritesFirst }
        : {}),
    };
    try {
      const transit = await connectTransit(plan, this.listener);
      const pipe = new TransitPipe(
        transit.connection,
        transitKey,
        role,
        transit.path,
        transit.address,
        transit.dialedIn,
      );
      // The mailbox has done its part; its close (a round trip) need not hold the data back.
      void this.close("happy");
      return pipe;
    } catch (err) {
      await this.close("errory");
      throw err;
    } finally {
      transitKey.fill(0);
      senderKey?.fill(0);
    }
  }
}
