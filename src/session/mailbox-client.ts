/**
 * The client side of magic-wormhole's mailbox protocol (client-protocol.md, server-protocol.md),
 * as a state machine without I/O: `handle(message)` takes what the server sent, `port.send`
 * carries what we send, and the owner (wormhole.ts, with the WebSocket) hears `events`.
 *
 *   us                                  mailbox server                              peer
 *   bind {appid, side}       ->
 *   allocate                 ->  <- allocated {nameplate}        (the side making the code)
 *   list                     ->  <- nameplates [{id}]            (the side given a code: it must exist)
 *   claim {nameplate}        ->  <- claimed {mailbox}
 *   open {mailbox}           ->
 *   add pake {pake_v1: hex(SPAKE2 message)}  ->  <- message {side, phase, body}  <- the peer's add
 *   (key) add version: SecretBox(phase key, JSON versions)
 *   peer's version opens     -> verified: the code was right (else: wrong code, mood "scary")
 *   add "0", "1", ...: SecretBox(phase key, application data), delivered in phase order
 *   release {nameplate} -> released; close {mailbox, mood} -> closed
 *
 * The side that made the code keeps its nameplate claimed until it closes, so nobody else can claim
 * that code while the conversation lasts (the server answers a third side "crowded"); the side
 * that joined releases it once it has the peer's PAKE message, as the wormhole client does.
 * A lost connection is survived as the wormhole client's Mailbox and Nameplate machines do:
 * `reconnected()` binds again with the same side, asks again what was not answered, claims again
 * the nameplate we hold (another mailbox in the answer: the server forgot the code, E_MAILBOX_LOST),
 * re-opens the mailbox and adds again what the server has not echoed (`unacked`); what it hands
 * out again is dropped by side and phase (mailbox-phases.ts).
 */

import { type Spake2Start, spake2Finish, spake2Start } from "../crypto/spake2.ts";
import { isNameplate, parseWormholeCode, randomWormholeWords } from "../crypto/wormhole-code.ts";
import { derivePhaseKey, openPhaseMessage, sealPhaseMessage, WORMHOLE_APPID } from "../crypto/wormhole-keys.ts";
import {
  codeForgotten,
  EARLY_FLOOD,
  hexBytes,
  MAX_PENDING_BYTES,
  MAX_PENDING_MESSAGES,
  serverWords,
  WormholeError,
} from "./mailbox-input.ts";
import { MailboxPhases } from "./mailbox-phases.ts";

export {
  type LostMailbox,
  MAX_EARLY_BYTES,
  MAX_EARLY_MESSAGES,
  MAX_PENDING_BYTES,
  MAX_PENDING_MESSAGES,
  MAX_SERVER_WORDS,
  WormholeError,
  type WormholeErrorCode,
} from "./mailbox-input.ts";

export interface MailboxPort {
  send(message: Record<string, unknown>): void;
}

export interface MailboxClientEvents {
  /** The code is known (allocated by the server with our words, or given). */
  codeKnown(code: string): void;
  /** The peer's key exchange message came: its version follows at once. */
  keyed?(): void;
  /** The peer proved it knows the code; `versions` is its decrypted version message. */
  verified(key: Uint8Array, versions: Record<string, unknown>): void;
  /** One application message from the peer, in phase order. */
  received(data: Uint8Array): void;
  /** The meeting failed; the client has started closing. */
  failed(error: WormholeError): void;
  /** The server confirmed our close. */
  closed(): void;
}

type State = "binding" | "allocating" | "listing" | "claiming" | "open" | "closing" | "closed";

const utf8 = new TextEncoder();
const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

export class MailboxClient {
  /** Our side: 16 hex digits (8 random bytes). */
  readonly side = toHex(crypto.getRandomValues(new Uint8Array(8)));
  private state: State = "binding";
  private code: string | undefined;
  private nameplate: string | undefined;
  private mailbox: string | undefined;
  private pake: Spake2Start | undefined;
  private key: Uint8Array | undefined;
  private verifiedPeer = false;
  private peerSide: string | undefined;
  private nextSendPhase = 0;
  /** The peer's messages waiting for the key, or for an earlier phase. */
  private readonly phases = new MailboxPhases();
  private releasedNameplate = false;
  /** The server answered our release (until then a new connection sends it again). */
  private releaseAnswered = false;
  /** A claim sent again on a new connection, before re-opening: its answer must name our mailbox. */
  private reclaiming = false;
  /** True on the side that asked the server for the nameplate (it keeps it until it closes). */
  private nameplateAllocated = false;
  /** Our adds the server has not echoed back yet, by phase (hex): sent again on a new connection. */
  private readonly unacked = new Map<string, string>();

  /**
   * @param code - the code to join (undefined: allocate one)
   * @param versions - our version message (`app_versions` inside says what we are)
   */
  constructor(
    private readonly port: MailboxPort,
    private readonly events: MailboxClientEvents,
    private readonly versions: Record<string, unknown>,
    code?: string,
  ) {
    if (code !== undefined) {
      const parsed = parseWormholeCode(code);
      if (!parsed) throw new RangeError(`not a mailbox code: ${code}`);
      this.code = parsed.code;
      this.nameplate = parsed.nameplate;
    }
  }

  /** Sends bind and the first request; call once the socket is open. */
  start(): void {
    this.bind();
    if (this.code === undefined) {
      this.state = "allocating";
      this.port.send({ type: "allocate" });
    } else {
      this.state = "listing";
      this.port.send({ type: "list" });
    }
  }

  /** A new connection after a lost one (see the module comment). Nothing while closing. */
  reconnected(): void {
    if (this.state === "binding" || this.state === "closing" || this.state === "closed") return;
    this.bind();
    if (this.releasedNameplate && !this.releaseAnswered) {
      this.port.send({ type: "release", nameplate: this.nameplate });
    }
    if (this.state === "allocating") this.port.send({ type: "allocate" });
    else if (this.state === "listing") this.port.send({ type: "list" });
    else if (this.state === "claiming" || !this.releasedNameplate) {
      // Open with the nameplate still ours: claimed again first, and the answer checked.
      this.reclaiming = this.state === "open";
      this.port.send({ type: "claim", nameplate: this.nameplate });
    } else this.reopen();
  }

  /** One message from the server. A malformed one from the peer fails the meeting. */
  handle(message: Record<string, unknown> & { type: string }): void {
    if (this.state === "closed") return;
    switch (message.type) {
      case "welcome": {
        const welcome = message.welcome as { error?: unknown } | undefined;
        if (welcome && typeof welcome.error === "string") {
          this.fail(new WormholeError("E_MAILBOX_REFUSED", serverWords(welcome.error)));
        }
        return;
      }
      case "allocated":
        if (this.state !== "allocating") return;
        // It starts the code the peer types: anything but a number (escapes, megabytes; 5, null) nobody could type.
        if (typeof message.nameplate !== "string" || !isNameplate(message.nameplate)) {
          return this.failProtocol("it allocated a nameplate that is not a number");
        }
        this.nameplate = message.nameplate;
        this.nameplateAllocated = true;
        this.code = `${message.nameplate}-${randomWormholeWords()}`;
        this.claim();
        return;
      case "nameplates": {
        if (this.state !== "listing") return;
        const list = Array.isArray(message.nameplates) ? message.nameplates : [];
        if (!list.some((n) => typeof n === "object" && n !== null && (n as { id?: unknown }).id === this.nameplate)) {
          this.fail(new WormholeError("E_NAMEPLATE_UNKNOWN", `no one is waiting with nameplate ${this.nameplate}`));
          return;
        }
        this.claim();
        return;
      }
      case "claimed":
        // Passed over, it left the code shown and our key exchange never begun: waiting for ever.
        if (typeof message.mailbox !== "string") return this.failProtocol("it answered the claim without a mailbox");
        if (this.state === "open" && this.reclaiming) {
          this.reclaiming = false;
          if (message.mailbox === this.mailbox) return this.reopen();
          // A claim answered with a new mailbox: the server no longer knew the nameplate.
          return this.fail(codeForgotten(this.nameplate));
        }
        if (this.state !== "claiming") return;
        this.mailbox = message.mailbox;
        this.state = "open";
        this.port.send({ type: "open", mailbox: this.mailbox });
        this.pake = spake2Start(utf8.encode(this.code as string), utf8.encode(WORMHOLE_APPID));
        this.add("pake", utf8.encode(JSON.stringify({ pake_v1: toHex(this.pake.message) })));
        return;
      case "released":
        this.releaseAnswered = true;
        return;
      case "message":
        this.message(message);
        return;
      case "error": {
        const text = typeof message.error === "string" ? message.error : "an error";
        if (/crowded|too many sides|re-claim/.test(text)) {
          this.fail(new WormholeError("E_NAMEPLATE_TAKEN", `nameplate ${this.nameplate} is already in use`));
        } else this.fail(new WormholeError("E_MAILBOX_REFUSED", serverWords(text)));
        return;
      }
      case "closed":
        if (this.state === "closing") {
          this.state = "closed";
          this.events.closed();
        }
        return;
      default:
        return; // ack, pong, and types we do not know
    }
  }

  /** Sends one application message (phases "0", "1", ...); only after `verified`. */
  send(data: Uint8Array): void {
    if (!this.key || this.state !== "open") throw new Error("send before the mailbox is verified");
    const phase = String(this.nextSendPhase++);
    this.add(phase, sealPhaseMessage(derivePhaseKey(this.key, this.side, phase), data));
  }

  /** Releases the nameplate and closes the mailbox with `mood` (happy, lonely, scary, errory). */
  close(mood: "happy" | "lonely" | "scary" | "errory" = "happy"): void {
    if (this.state === "closing" || this.state === "closed") return;
    const wasBinding = this.state === "binding";
    this.state = "closing";
    this.releaseNameplate();
    if (this.mailbox) this.port.send({ type: "close", mailbox: this.mailbox, mood });
    else if (!wasBinding) {
      this.state = "closed";
      this.events.closed();
    }
    this.key?.fill(0);
  }

  /** The code (after `codeKnown`). */
  get currentCode(): string | undefined {
    return this.code;
  }

  private bind(): void {
    this.port.send({ type: "bind", appid: WORMHOLE_APPID, side: this.side, client_version: ["parley", "1"] });
  }

  /** Opens the mailbox again on a new connection and adds again what the server has not echoed. */
  private reopen(): void {
    this.port.send({ type: "open", mailbox: this.mailbox });
    for (const [phase, body] of this.unacked) this.port.send({ type: "add", phase, body });
  }

  private claim(): void {
    this.state = "claiming";
    this.events.codeKnown(this.code as string);
    this.port.send({ type: "claim", nameplate: this.nameplate });
  }

  private releaseNameplate(): void {
    if (this.releasedNameplate || !this.nameplate || this.state === "binding") return;
    this.releasedNameplate = true;
    this.port.send({ type: "release", nameplate: this.nameplate });
  }

  private add(phase: string, body: Uint8Array): void {
    const hex = toHex(body);
    this.unacked.set(phase, hex);
    this.port.send({ type: "add", phase, body: hex });
  }

  private fail(error: WormholeError): void {
    if (this.state === "closing" || this.state === "closed") return;
    this.events.failed(error);
    this.close(error.code === "E_WRONG_CODE" ? "scary" : "errory");
  }

  /** The server sent what no mailbox server sends (`beforeKey`: or another side did, before any key: WormholeError). */
  private failProtocol(detail: string, beforeKey = false): void {
    this.fail(new WormholeError("E_MAILBOX_PROTOCOL", detail, { beforeKey }));
  }

  private message(message: Record<string, unknown>): void {
    const { side, phase, body } = message;
    if (typeof side !== "string" || typeof phase !== "string" || typeof body !== "string") return;
    if (side === this.side) {
      this.unacked.delete(phase); // our own echo: the server has it
      return;
    }
    if (this.state !== "open") return;
    if (this.peerSide !== undefined && side !== this.peerSide) return; // not our peer (crowded mailboxes refuse)
    if (!this.phases.isNew(side, phase)) return;
    const bytes = hexBytes(body);
    if (!bytes) return this.fail(new WormholeError("E_PEER_PROTOCOL", "a malformed message", { beforeKey: !this.key }));
    if (phase === "pake") return this.gotPake(side, bytes);
    if (!this.key) {
      if (!this.phases.holdEarly({ phase, side, body: bytes })) this.failProtocol(EARLY_FLOOD, true);
      return;
    }
    this.gotEncrypted(phase, side, bytes);
  }

  private gotPake(side: string, body: Uint8Array): void {
    if (this.key || !this.pake) return; // a duplicate delivery
    let peerMessage: Uint8Array;
    try {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as { pake_v1?: unknown };
      if (typeof parsed.pake_v1 !== "string") throw new Error("no pake_v1");
      peerMessage = fromHex(parsed.pake_v1);
      this.key = spake2Finish(this.pake.state, peerMessage);
    } catch (cause) {
      const detail = "the peer's key exchange message is not usable";
      return this.fail(new WormholeError("E_PEER_PROTOCOL", detail, { cause, beforeKey: true }));
    }
    this.peerSide = side;
    this.events.keyed?.();
    // The joining side lets go of the nameplate now: the mailbox carries on without it.
    if (!this.nameplateAllocated) this.releaseNameplate();
    const version = utf8.encode(JSON.stringify(this.versions));
    this.add("version", sealPhaseMessage(derivePhaseKey(this.key, this.side, "version"), version));
    // Only the peer's: another side's message (the server's doing) is not for us.
    for (const m of this.phases.takeEarly(side)) this.gotEncrypted(m.phase, m.side, m.body);
  }

  private gotEncrypted(phase: string, side: string, body: Uint8Array): void {
    const key = this.key as Uint8Array;
    let plaintext: Uint8Array;
    try {
      plaintext = openPhaseMessage(derivePhaseKey(key, side, phase), body);
    } catch {
      return this.fail(new WormholeError("E_WRONG_CODE", "wrong code"));
    }
    if (phase === "version") {
      if (this.verifiedPeer) return;
      let versions: unknown;
      try {
        versions = JSON.parse(new TextDecoder().decode(plaintext));
      } catch {
        versions = undefined;
      }
      if (typeof versions !== "object" || versions === null || Array.isArray(versions)) {
        return this.fail(new WormholeError("E_PEER_PROTOCOL", "the peer's version message is not an object"));
      }
      this.verifiedPeer = true;
      this.events.verified(key, versions as Record<string, unknown>);
      this.deliver();
      return;
    }
    const put = this.phases.put(Number(phase), plaintext);
    if (put === "again") return; // delivered twice by the server
    if (put === "flood") {
      return this.fail(
        new WormholeError(
          "E_PEER_PROTOCOL",
          `more than ${MAX_PENDING_MESSAGES} mailbox messages or ${MAX_PENDING_BYTES} bytes out of order`,
        ),
      );
    }
    this.deliver();
  }

  /** Application messages go up in phase order, and only after the version message. */
  private deliver(): void {
    if (!this.verifiedPeer) return;
    while (this.state === "open") {
      const next = this.phases.next();
      if (!next) return;
      this.events.received(next);
    }
  }
}
