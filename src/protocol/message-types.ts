/**
 * Protocol message types and their wire limits: what each control frame means once parsed.
 * The schema table that encodes and decodes them is in messages.ts. Pure: no I/O.
 */

/** Longest peer display name, in UTF-16 code units. */
export const MAX_NAME_CHARS = 64;
/** Longest file name in an OFFER, in UTF-8 bytes (the usual file system limit). */
export const MAX_FILE_NAME_BYTES = 255;
/** Longest free-text reason (BYE). */
export const MAX_REASON_CHARS = 200;
/** Longest BYE or LEAVING reason shown as it is in a line of ours (shownReason). */
export const SHOWN_REASON_CHARS = 40;
/** Plain lowercase words, as Parley's own reasons are ("exit", "done", "hung up", "its output failed"). */
const PLAIN_REASON = /^[a-z]+(?:[ -][a-z]+)*$/;

/**
 * A peer's BYE or LEAVING reason as a line of ours shows it ("alice left (exit)"): plain words of
 * at most SHOWN_REASON_CHARS as they are, anything else in quotes and cut there, so that the
 * peer's 200 characters cannot read as our own sentences (`exit). Connected to mallory ...` inside
 * the line that says it is leaving), a `"` or a backslash inside them escaped. The wire keeps free
 * text for older peers; a reason code elsewhere never carries sentences. The caller still makes it
 * visible (controls, escapes).
 */
export function shownReason(reason: string): string {
  if (reason.length <= SHOWN_REASON_CHARS && PLAIN_REASON.test(reason)) return reason;
  const chars = [...reason];
  const cut = chars.length > SHOWN_REASON_CHARS ? `${chars.slice(0, SHOWN_REASON_CHARS).join("")}…` : reason;
  // A quote of the peer's own would end ours: `exit"). Transfer #3 saved: ok ("` read as a
  // sentence of ours between two quoted reasons (session 30). Escaped, as a string literal is.
  return `"${cut.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
/** Longest detail beside a reason code (REJECT, CANCEL, RECEIVED). */
export const MAX_DETAIL_CHARS = 64;
/**
 * A reason code on the wire: `E_` and capitals (E_NO_SPACE, E_CANCELLED). Each side words it
 * in its own language (src/cli); the wire never carries sentences.
 */
export const REASON_CODE_PATTERN = /^E_[A-Z0-9_]{1,30}$/;
/**
 * Detail beside a reason code: one token (an errno name, a checksum name, a count), never a
 * path or a sentence: no slash, no space.
 */
export const DETAIL_PATTERN = /^[A-Za-z0-9_.+-]*$/;
/** Most components in a folder entry's path. */
export const MAX_PATH_DEPTH = 64;
/** Largest transfer id (u32). */
export const MAX_TRANSFER_ID = 0xffff_ffff;
/** Longest digest, in characters of lowercase hex. */
export const MAX_DIGEST_CHARS = 128;

export interface Hello {
  readonly kind: "hello";
  readonly v: number;
  readonly app: string;
  /** 64-bit random process nonce, 16 lowercase hex digits. */
  readonly nonce: string;
  readonly name?: string;
  readonly features: readonly string[];
  /**
   * The dialer's password mode: "code" (it knows the listener's code words) or "port" (no
   * code: only a loopback listener accepts that). The listener says "listen".
   */
  readonly mode?: HelloMode;
}

export type HelloMode = "code" | "port" | "listen";

/** PAKE public share (CPace, 32 bytes), sent after HELLO. */
export interface Share {
  readonly kind: "share";
  readonly share: Uint8Array;
}
/** Key confirmation: a MAC (32 bytes) over the handshake, proving both derived the same keys. */
export interface Confirm {
  readonly kind: "confirm";
  readonly mac: Uint8Array;
}
export interface Chat {
  readonly kind: "chat";
  readonly text: string;
}
export interface Offer {
  readonly kind: "offer";
  readonly id: number;
  readonly name: string;
  /** Bytes, or null when not known up front (a stream); END then says how many there were. */
  readonly size: number | null;
  /** Digest algorithm the END trailer will use, so the receiver can hash while receiving. */
  readonly algo: string;
  /** Modification time, ms since the epoch, for the receiver to keep. */
  readonly mtime?: number;
  /** The file is executable: the receiver sets the executable bits. */
  readonly exec?: boolean;
  /**
   * Resume token (32 hex characters): the receiver resumes only a `.part` marked with the
   * same token, so nobody else can probe or truncate it.
   */
  readonly token?: string;
  /** Set when the file is one entry of a folder being sent. */
  readonly folder?: FolderEntry;
  /**
   * Set on every offer of a command that sends several files or folders (`transfer a b`,
   * `parley send a b`): which command, and how many transfers it offers (every planned send is
   * offered; one that cannot be read fails at once). The receiver says the command's totals
   * once, when that many of its transfers have ended. Absent: a command of one file or folder
   * (or a peer from before this field).
   */
  readonly command?: CommandPlace;
}

/** The command an offer belongs to (see Offer.command). */
export interface CommandPlace {
  /** The command's number, unique among the sender's commands in one session. */
  readonly seq: number;
  /** Transfers the command offers (a folder's entries each count), >= 2. */
  readonly transfers: number;
}

/** Where an OFFER sits in a folder transfer: the receiver recreates the tree under a new folder. */
export interface FolderEntry {
  /** Identifies the folder transfer: a number its sender gives each folder (send-plan.ts counts from 1), any to a receiver. */
  readonly group: number;
  /** The folder's name (the top-level folder on the receiver, made unique there). */
  readonly root: string;
  /** Path inside the folder, one component per item; the last is the entry's own name (none: the folder itself, empty). */
  readonly path: readonly string[];
  /** The entry is an empty directory (size 0, no data). */
  readonly dir?: boolean;
  /** Entries and bytes in the whole folder transfer, for progress and the totals. */
  readonly entries: number;
  readonly bytes: number;
}
export interface Accept {
  readonly kind: "accept";
  readonly id: number;
  /** Bytes the receiver already has (a .part from an interrupted attempt); 0 for a new file. */
  readonly offset: number;
  /** With offset > 0: digest (the OFFER's algo) of those first `offset` bytes, to be compared. */
  readonly prefix?: string;
}
/**
 * The sender's answer to an ACCEPT with offset > 0: DATA starts at `offset`, which is the
 * accepted offset when the prefix digest matched the sender's file, else 0 (start over).
 */
export interface Start {
  readonly kind: "start";
  readonly id: number;
  readonly offset: number;
}
/** Why a transfer was declined, cancelled or not stored: a code plus a bounded, path-free token. */
export interface WireReason {
  /** REASON_CODE_PATTERN */
  readonly code: string;
  /** DETAIL_PATTERN, at most MAX_DETAIL_CHARS */
  readonly detail?: string;
  /**
   * CANCEL only: the bytes of the file that reached the receiver's output when it writes the file
   * there as it comes (`parley receive --stdout`) and keeps nothing to resume. Older peers ignore it.
   */
  readonly bytes?: number;
}
export interface Reject extends WireReason {
  readonly kind: "reject";
  readonly id: number;
}
export interface End {
  readonly kind: "end";
  readonly id: number;
  readonly bytes: number;
  readonly algo: string;
  readonly digest: string;
}
export interface Received {
  readonly kind: "received";
  readonly id: number;
  readonly bytes: number;
  readonly ok: boolean;
  /** Why it failed, as a stable code (E_BAD_CHECKSUM, E_WRITE, ...), when `ok` is false. */
  readonly code?: string;
  readonly detail?: string;
  /**
   * When `ok`: the name the receiver stored the file under ("mid50 (1).bin"; a base name,
   * never a path), so that the sender can say where it went.
   */
  readonly name?: string;
  /**
   * When `ok`, for an entry of a folder: the name the receiver stored the folder under ("photos (1)",
   * "_config"; a base name). Session 13: older peers neither send nor read it.
   */
  readonly root?: string;
}
export interface Cancel extends WireReason {
  readonly kind: "cancel";
  readonly id: number;
}
/**
 * FOLDER_END (session 14): the sender's folder `group` ends here, whole: its entries not offered
 * yet never will be (a `cancel` typed at the sender: E_CANCELLED, detail "folder"). Its entries
 * under way got a CANCEL each before it; those sent whole keep the receiver's answer. It names
 * the folder, not an entry, so a receiver with no entry of it under way learns it too. Sent only
 * to a peer whose HELLO says "folder-end".
 */
export interface FolderEnd extends WireReason {
  readonly kind: "folderEnd";
  /** The folder's group (FolderEntry.group). */
  readonly group: number;
}
export interface Ack {
  readonly kind: "ack";
  /** Running total of DATA payload bytes the receiver has consumed. */
  readonly bytes: number;
}
export interface Ping {
  readonly kind: "ping" | "pong";
  readonly token: Uint8Array;
}
/** Sent by the side with the larger HELLO nonce on the one connection it keeps; the session starts. */
export interface Ready {
  readonly kind: "ready";
}
export interface Bye {
  readonly kind: "bye";
  readonly reason: string;
}
/**
 * LEAVING (session 28): the peer typed `exit` (or its input ended) while transfers were under
 * way: it takes no new offer, and its BYE follows once they have ended (with the same `reason`,
 * or `interrupted` when a Ctrl-C cut the wait).
 * Sent only to a peer whose HELLO says "leaving".
 */
export interface Leaving {
  readonly kind: "leaving";
  readonly reason: string;
}

export type Message =
  | Hello
  | Share
  | Confirm
  | Chat
  | Offer
  | Accept
  | Start
  | Reject
  | End
  | Received
  | Cancel
  | FolderEnd
  | Ack
  | Ping
  | Bye
  | Leaving
  | Ready;
