/**
 * The one transfer with a plain magic-wormhole client (`wormhole send` / `wormhole receive`),
 * for `parley send`, `parley receive` and the chat: what happens and how it is worded. The
 * peer's text, one file (or a folder, by the handler plugged in: `folders`, plain-folders.ts),
 * and the exit code: 0 done, 2 no path, 3 declined or broken, 4 the data did not verify. Taking
 * what a `wormhole send` offers is here; offering to a `wormhole receive` is plain-send.ts.
 */

import { randomBytes } from "node:crypto";
import { MAX_PLAIN_TEXT_CHARS } from "../protocol/index.ts";
import type { MetPath, OfferDecision, TransferDone, TransferInfo } from "../session/index.ts";
import { type PlainPeer, PlainPeerError } from "../session/plain-peer.ts";
import { type PlainSink, receiveOverTransit } from "../session/plain-receive.ts";
import { PlainTransferError } from "../session/plain-transfer.ts";
import type { TransitPipe } from "../session/transit-pipe.ts";
import { FileReceiver, type ReceivedFile, sanitizeFolderName, TransferError } from "../transfer/index.ts";
import type { ZipStored } from "../transfer/zip-renames.ts";
import { EXIT_CONNECTION, EXIT_INTEGRITY, EXIT_OK, EXIT_TRANSFER } from "./exit-codes.ts";
import { describeMeetFailure } from "./mailbox-meet.ts";
import { STDOUT_FOLDER_WORDS } from "./reason-words.ts";

/** Where the run's lines and events go (the send/receive Reporter, or the chat's terminal). */
export interface PlainOutput {
  note(line: string): void;
  /** The peer's text message. */
  text(text: string): void;
  offered(info: TransferInfo): void;
  /** A received file's place is open: `info.name` is the name it is stored under. */
  receiving(info: TransferInfo): void;
  progressed(info: TransferInfo, bytes: number): void;
  done(done: TransferDone): void;
  /**
   * A received folder's (`done`'s) entry stored under another name than its zip gives: `root` is
   * the folder's name as offered. For --json events; people read the "Stored ... as" notes.
   */
  entryStored(done: TransferDone, root: string, entry: ZipStored): void;
  failed(info: TransferInfo, reason: string, code: string): void;
  error(code: string, message: string): void;
  /** The transit path stands (said in a line of its own: no connected line follows). */
  path(via: MetPath): void;
  /** The peer is there: over this transit path, or "mailbox" for a text message (no transit). */
  connected(path: "direct" | "relay" | "mailbox", address?: string): void;
}

/** The transit connection is up: its path, and the peer connected over it. */
export function reportTransit(out: PlainOutput, pipe: Pick<TransitPipe, "path" | "address" | "dialedIn">): void {
  out.path({ path: pipe.path, address: pipe.address, dialedIn: pipe.dialedIn });
  out.connected(pipe.path, pipe.address);
}

/**
 * The transit connection for an offer accepted from a plain wormhole sender, with its lines: the
 * path, then the offer (`sayOffered`, said with the failure where there is no path) and
 * "Receiving". @param abort - undoes what was opened for the offer, when no connection comes
 * @returns the pipe, or the exit code of the failure reported
 */
export async function acceptPlainTransit(
  peer: PlainPeer,
  out: PlainOutput,
  info: TransferInfo,
  sayOffered: () => void,
  abort: () => void,
): Promise<TransitPipe | number> {
  let pipe: TransitPipe;
  try {
    pipe = await peer.acceptFile(info.size !== null && info.size > 0);
  } catch (err) {
    abort();
    sayOffered();
    return reportPlainFailure(err, out, info);
  }
  reportTransit(out, pipe);
  sayOffered();
  out.receiving(info);
  return pipe;
}

/**
 * A file (or a folder's zip) received from a plain peer: its done, `unverified` always (a plain
 * sender sends no checksum; ours went back in the ack for it to check), `detached` as the file
 * receiver said (no path led to its folder: unmounted meanwhile), as a Parley sender's done says.
 */
export function plainReceivedDone(info: TransferInfo, got: ReceivedFile): TransferDone {
  return {
    ...info,
    bytes: got.bytes,
    path: got.path,
    resumedFrom: 0,
    algo: got.algo,
    digest: got.digest,
    unverified: true,
    ...(got.detached ? { detached: true } : {}),
  };
}

/** A folder offer's handler (a zip both ways), plugged in by the folder code. */
export interface PlainFolders {
  /** Receives a `directory` offer; resolves with the exit code. */
  receive?: (peer: PlainPeer, offer: Extract<PlainOfferOf, { kind: "directory" }>, out: PlainOutput) => Promise<number>;
  /** Sends the folder at `path`; resolves with the exit code. */
  send?: (peer: PlainPeer, path: string, out: PlainOutput) => Promise<number>;
}
export type PlainOfferOf = Awaited<ReturnType<PlainPeer["receiveOffer"]>>["offer"];

export const PLAIN_PEER_LINE =
  "A plain wormhole client (not Parley) joined: one transfer with this code, no chat back, no resume.";

/** Failure codes that mean the data did not verify (exit 4). */
const INTEGRITY = new Set(["E_AUTH_FAILED", "E_BAD_NONCE", "E_BAD_CHECKSUM", "E_SIZE_MISMATCH"]);

const WORDS: Record<string, string> = {
  E_AUTH_FAILED: "a record from the peer did not authenticate (corrupted or forged): the data cannot be trusted",
  E_BAD_NONCE: "a record from the peer came out of order: the data cannot be trusted",
  E_BAD_CHECKSUM: "the receiver's SHA-256 is not the file's: it did not get the file intact",
};

export interface PlainReceiveOptions {
  readonly dir: string;
  /** Asks (--ask) or checks (--stdout) before accepting; absent: accept. */
  readonly decide?: (info: TransferInfo) => Promise<OfferDecision>;
  /** Opens where the bytes go instead of a file in `dir` (--stdout). */
  readonly openSink?: (info: TransferInfo) => PlainSink & { readonly name: string };
  /** Takes a folder offer; absent (--stdout), a folder is declined. */
  readonly folders?: PlainFolders;
  /** A file is being received: `stop` removes what it wrote (the run is ending early: a signal). */
  readonly started?: (stop: () => void) => void;
}

/** How a failure ends the run. */
function exitFor(code: string): number {
  return INTEGRITY.has(code) ? EXIT_INTEGRITY : EXIT_TRANSFER;
}

/** One failure of the exchange, reported; @returns the exit code */
export function reportPlainFailure(err: unknown, out: PlainOutput, info?: TransferInfo): number {
  const meet = describeMeetFailure(err);
  if (meet) {
    out.error(meet.code, meet.line.replace(/^Error: /, ""));
    return meet.exitCode;
  }
  if (err instanceof PlainPeerError) {
    if (err.code === "E_NO_OFFER") {
      out.error(err.code, err.message);
      return EXIT_CONNECTION;
    }
    const words = err.reason === undefined ? err.message : `the wormhole peer declined: ${err.reason}`;
    if (info) out.failed(info, words, err.code === "E_PEER_REFUSED" ? "E_REJECTED" : err.code);
    else out.error(err.code, words);
    return EXIT_TRANSFER;
  }
  if (err instanceof PlainTransferError || err instanceof TransferError) {
    const words = WORDS[err.code] ?? err.message;
    if (info) out.failed(info, words, err.code);
    else out.error(err.code, words);
    return exitFor(err.code);
  }
  throw err;
}

/**
 * Declines a plain sender's offer: `told` is what its user reads, `words` why, here
 * ("declined: ...", E_REJECTED, as a Parley offer declined). @returns the exit code
 */
async function declineOffer(
  peer: PlainPeer,
  out: PlainOutput,
  info: TransferInfo,
  told: string,
  words: string,
): Promise<number> {
  await peer.decline(told);
  out.failed(info, `declined: ${words}`, "E_REJECTED");
  return EXIT_TRANSFER;
}

/**
 * What a plain sender's user reads when the receiver was stopped (a signal) after the file's last
 * byte, before it was stored (--stdout: an output still full).
 */
const STOPPED_FILE_WORDS = "the receiver was stopped before the file was stored";

/** What a plain sender's user reads when its file or folder cannot be stored here (no path, no reason of ours). */
export const UNSTORABLE_WORDS = "the receiver cannot store it";

/**
 * Declines a plain sender's file or folder that cannot be stored here (`err`): its user reads
 * UNSTORABLE_WORDS, ours the offer (`sayOffered`) and why. @returns the exit code
 */
export async function declineUnstorable(
  peer: PlainPeer,
  out: PlainOutput,
  offered: TransferInfo,
  err: unknown,
  sayOffered: () => void,
): Promise<number> {
  await peer.decline(UNSTORABLE_WORDS);
  sayOffered();
  return reportPlainFailure(err, out, offered);
}

/**
 * Asks about (--ask) or checks (--stdout) a plain sender's offer with `decide`, and declines it
 * unless the answer is yes. @returns the exit code of the decline, or undefined to take it
 */
export async function declinedByDecide(
  peer: PlainPeer,
  out: PlainOutput,
  offered: TransferInfo,
  decide: ((info: TransferInfo) => Promise<OfferDecision>) | undefined,
): Promise<number | undefined> {
  const decision = decide ? await decide(offered) : true;
  if (decision === true) return undefined;
  const words = typeof decision === "string" ? decision : decision.reason;
  return declineOffer(peer, out, offered, "transfer rejected", words);
}

/** A plain sender's folder offer as the reporter shows it: named as it will be stored, its zip's size. */
export function plainFolderInfo(offer: Extract<PlainOfferOf, { kind: "directory" }>): TransferInfo {
  return {
    id: 1,
    direction: "receive",
    name: sanitizeFolderName(offer.name),
    size: offer.zipSize,
    zippedFolder: { files: offer.numFiles, bytes: offer.numBytes },
  };
}

/** A plain `wormhole send` on the other end: take its text or its one file. */
export async function receiveFromPlain(
  peer: PlainPeer,
  out: PlainOutput,
  options: PlainReceiveOptions,
): Promise<number> {
  out.note(PLAIN_PEER_LINE);
  let offer: PlainOfferOf;
  try {
    offer = (await peer.receiveOffer()).offer;
  } catch (err) {
    await peer.close("errory");
    return reportPlainFailure(err, out);
  }
  return takeOffer(peer, offer, out, options);
}

/** Takes (or declines) the offer the peer made. @returns the exit code */
export async function takeOffer(
  peer: PlainPeer,
  offer: PlainOfferOf,
  out: PlainOutput,
  options: PlainReceiveOptions,
): Promise<number> {
  switch (offer.kind) {
    case "message":
      await peer.acceptText();
      out.connected("mailbox");
      out.text(offer.text);
      return EXIT_OK;
    case "file":
      return receiveFile(peer, offer, out, options);
    case "directory": {
      if (options.folders?.receive) return options.folders.receive(peer, offer, out);
      // No folder handler: --stdout, which takes one file or text message (as a Parley folder is declined).
      return declineOffer(peer, out, plainFolderInfo(offer), STDOUT_FOLDER_WORDS, STDOUT_FOLDER_WORDS);
    }
    case "unknown":
      if (offer.textChars !== undefined) {
        // A real `wormhole send --text - < big.txt` (its receiver takes any length): say what it
        // was, to both users, instead of "unknown offer type" / "something unknown (message)".
        const chars = offer.textChars;
        await peer.decline(
          `text message too long (${chars} characters; Parley takes at most ${MAX_PLAIN_TEXT_CHARS}): send it as a file`,
        );
        out.error(
          "E_UNSUPPORTED_OFFER",
          `the wormhole peer sent a text message of ${chars} characters, more than the ${MAX_PLAIN_TEXT_CHARS} Parley takes: ask them to send it as a file (wormhole send FILE)`,
        );
        return EXIT_TRANSFER;
      }
      await peer.decline("unknown offer type");
      out.error("E_UNSUPPORTED_OFFER", `the wormhole peer offered something unknown (${offer.detail})`);
      return EXIT_TRANSFER;
  }
}

async function receiveFile(
  peer: PlainPeer,
  offer: { readonly name: string; readonly size: number },
  out: PlainOutput,
  options: PlainReceiveOptions,
): Promise<number> {
  const offered: TransferInfo = { id: 1, direction: "receive", name: offer.name, size: offer.size };
  const declined = await declinedByDecide(peer, out, offered, options.decide);
  if (declined !== undefined) return declined;
  // The offer is said once the path is (as from a Parley peer: the path, then "Receiving #1"),
  // or with the failure that comes before it.
  const sayOffered = (): void => {
    if (!options.decide) out.offered(offered);
  };
  let sink: PlainSink & { readonly name: string };
  try {
    sink = options.openSink
      ? options.openSink(offered)
      : // A token of its own: no earlier `.part` is ever taken for this transfer (plain peers cannot resume).
        FileReceiver.open(
          options.dir,
          offer.name,
          1,
          offer.size,
          "sha256",
          { token: randomBytes(16).toString("hex") },
          { resumable: false },
        );
  } catch (err) {
    return declineUnstorable(peer, out, offered, err, sayOffered);
  }
  const info: TransferInfo = { ...offered, name: sink.name };
  let live = true;
  /** Once the bytes flow: ends the receive, and refuses the file to its sender after the last byte. */
  let stopReceive: ((words: string) => void) | undefined;
  options.started?.(() => {
    if (!live) return;
    if (stopReceive) stopReceive(STOPPED_FILE_WORDS);
    else sink.abort(false);
  });
  const pipe = await acceptPlainTransit(peer, out, info, sayOffered, () => sink.abort(false));
  if (typeof pipe === "number") return pipe;
  try {
    const file = await receiveOverTransit(pipe, sink, offer.size, (bytes) => out.progressed(info, bytes), {
      stoppable: (stop) => {
        stopReceive = stop;
      },
    }).finally(() => {
      live = false;
    });
    out.done(plainReceivedDone(info, file));
    out.note("Each record was authenticated; the SHA-256 went back to the wormhole sender, which checks it.");
    return EXIT_OK;
  } catch (err) {
    return reportPlainFailure(err, out, info);
  }
}
