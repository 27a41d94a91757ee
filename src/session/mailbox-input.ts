/**
 * What the mailbox client (mailbox-client.ts) takes from the server and the peer, and how much:
 * its failures (WormholeError, a stable code each), the bounds on what it holds, and the
 * checks of a body's hex and of the server's own words.
 */

const fromHex = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));

export type WormholeErrorCode =
  | "E_MAILBOX_UNREACHABLE"
  | "E_MAILBOX_LOST"
  | "E_MAILBOX_REFUSED"
  | "E_MAILBOX_SILENT"
  /** The server sent what no mailbox server sends (a huge message; messages before any PAKE). */
  | "E_MAILBOX_PROTOCOL"
  | "E_NAMEPLATE_UNKNOWN"
  | "E_NAMEPLATE_TAKEN"
  | "E_WRONG_CODE"
  | "E_PEER_GONE"
  | "E_PEER_PROTOCOL";

/**
 * A failure to meet through the mailbox, with a stable code (the CLI words it: cli/mailbox-meet.ts).
 * The message gives the specifics the code does not (the server's own words, what answered
 * where), without repeating what the code already says.
 */
export class WormholeError extends Error {
  override name = "WormholeError";
  /** For E_MAILBOX_LOST: which loss it was (the CLI words each its own way). */
  readonly lost: LostMailbox | undefined;
  /**
   * Another side's messages broke the meeting before any key was agreed (a joiner of the code,
   * or the server): nothing of ours was exchanged, and the code is spent (the chat makes a new one).
   */
  readonly beforeKey: boolean;
  constructor(
    readonly code: WormholeErrorCode,
    message: string,
    options?: ErrorOptions & { readonly lost?: LostMailbox; readonly beforeKey?: boolean },
  ) {
    super(message, options);
    this.lost = options?.lost;
    this.beforeKey = options?.beforeKey === true;
  }
}

/**
 * How a mailbox connection was lost for good: tried again for `retriedMs` without its return, or
 * back without our code (`codeForgotten`: a server restarted without its database, or pruned).
 * Neither: lost with no retry.
 */
export interface LostMailbox {
  readonly retriedMs?: number;
  readonly codeForgotten?: boolean;
}

/** The server came back without `nameplate`: waiting on in a new mailbox would wait for nobody. */
export const codeForgotten = (nameplate: string | undefined): WormholeError =>
  new WormholeError(
    "E_MAILBOX_LOST",
    `the mailbox server no longer knows code ${nameplate}-... (it came back without it)`,
    {
      lost: { codeForgotten: true },
    },
  );

/**
 * Longest text of the server's own (its `error`, its welcome's) put in a WormholeError: the
 * server's words are shown to the user, and a server may send megabytes of them.
 */
export const MAX_SERVER_WORDS = 300;
/**
 * Most messages held before the peer's PAKE message arrives. A real server never sends one
 * (the PAKE message is each side's first add, and a mailbox delivers in order); without a
 * bound, a hostile server, or a second client that claimed the nameplate and sent anything but
 * a PAKE message, grew a waiting Parley by every byte it sent (600,000 messages: 1.1 GB).
 */
export const MAX_EARLY_MESSAGES = 16;
/**
 * Most bytes held before the peer's PAKE message (none come from a real server). The count alone
 * let a second claimant, who needs no code, make us hold 16 messages of up to 16 MiB each
 * (the socket takes 32 Mi hex characters): 256 MiB.
 */
export const MAX_EARLY_BYTES = 1024 * 1024;
/** Why a meeting failed when more than those came before the peer's PAKE message. */
export const EARLY_FLOOD = `more than ${MAX_EARLY_MESSAGES} messages or ${MAX_EARLY_BYTES} bytes came before any key exchange (from the server, or from someone else who claimed this code's nameplate)`;
/** Most application messages held waiting for an earlier phase (a real peer sends them in order). */
export const MAX_PENDING_MESSAGES = 64;
/**
 * Most bytes held waiting for an earlier phase: once this much waits, the next message ends the
 * meeting (64 messages of up to 16 MiB were 1 GiB). A real peer's messages never wait here.
 */
export const MAX_PENDING_BYTES = 1024 * 1024;

/**
 * `hex` decoded, or undefined unless it is an even number of hex digits. Buffer.from stops at
 * the first non-hex pair, so the lengths tell. Not a regex: JSC's `/^([0-9a-f]{2})*$/` gives up
 * (no match) on a string of about 3.7 million characters, and a real `wormhole send --text` of
 * 400,000 CJK characters (its JSON escapes each as \uXXXX) is a body longer than that.
 */
export function hexBytes(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0) return undefined;
  const bytes = fromHex(hex);
  return bytes.length * 2 === hex.length ? bytes : undefined;
}

/** The server's words, bounded (MAX_SERVER_WORDS), never cut inside a surrogate pair. */
export function serverWords(text: string): string {
  if (text.length <= MAX_SERVER_WORDS) return text;
  const last = text.charCodeAt(MAX_SERVER_WORDS - 1);
  const kept = last >= 0xd800 && last <= 0xdbff ? MAX_SERVER_WORDS - 1 : MAX_SERVER_WORDS;
  return `${text.slice(0, kept)}… (${text.length - kept} more characters)`;
}
