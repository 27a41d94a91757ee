/**
 * Offering to a plain `wormhole receive` (for `parley send` and the chat's line or `transfer`):
 * our text, one file, or a folder (its zip, by the folder handler: plain-folders.ts), worded
 * and ended as plain-run.ts says of the transfer with a plain client.
 */

import { basename } from "node:path";
import type { TransferDone, TransferInfo } from "../session/index.ts";
import type { FileOffer, PlainPeer } from "../session/plain-peer.ts";
import { type PlainSendLimits, type PlainSent, sendOverTransit } from "../session/plain-transfer.ts";
import type { TransitPipe } from "../session/transit-pipe.ts";
import {
  MAX_SAFE_NAME_BYTES,
  openPieceReader,
  type Sendable,
  sendableKind,
  shortenedName,
  TransferError,
} from "../transfer/index.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { EXIT_OK } from "./exit-codes.ts";
import { type PlainFolders, type PlainOutput, reportPlainFailure, reportTransit } from "./plain-run.ts";

/**
 * The line while a plain `wormhole receive` decides on our offer (its user is asked, and may take
 * any time; one that quits there tells us nothing): "Sending #1" comes once the path stands, as
 * to a Parley peer.
 */
function offeredLine(info: TransferInfo): string {
  const what = info.name.endsWith("/") ? `the folder ${info.name}` : info.name;
  return `Offered ${sanitizeForTerminal(what)}; waiting for the wormhole receiver to accept it (it may ask its user first).`;
}

/**
 * Offers a file (or a folder's zip: `offer`) to a plain `wormhole receive` and waits for the
 * transit connection, with its lines: the offer while the receiver decides (offeredLine), then
 * the path and the offer ("Sending #1"). A refusal or no path is reported with the offer's name,
 * the mailbox closed. @returns the pipe, or the exit code of the failure reported
 */
export async function offerToPlain(
  peer: PlainPeer,
  out: PlainOutput,
  info: TransferInfo,
  offer: FileOffer,
): Promise<TransitPipe | number> {
  out.note(offeredLine(info));
  let pipe: TransitPipe;
  try {
    pipe = await peer.offerFile(offer);
  } catch (err) {
    await peer.close("errory");
    return reportPlainFailure(err, out, info);
  }
  reportTransit(out, pipe);
  out.offered(info);
  return pipe;
}

/** A send to a plain peer ended well: its done, `unverified` when the ack had no SHA-256 to compare. */
export function plainSentDone(info: TransferInfo, sent: PlainSent): TransferDone {
  return {
    ...info,
    bytes: sent.bytes,
    resumedFrom: 0,
    algo: "sha256",
    digest: sent.digest,
    ...(sent.verified ? {} : { unverified: true }),
  };
}

/** What we offer a plain `wormhole receive`. */
export type PlainSendWhat =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "path";
      readonly path: string;
      /** What the path is, when the caller has looked already (the chat, to keep a typo from ending the peer's session). */
      readonly sendable?: Sendable;
    };

/** A plain `wormhole receive` on the other end: send it our text or one file. */
export async function sendToPlain(
  peer: PlainPeer,
  what: PlainSendWhat,
  out: PlainOutput,
  folders?: PlainFolders,
  limits: Pick<PlainSendLimits, "bytesPerSecond"> = {},
): Promise<number> {
  if (what.kind === "text") {
    try {
      await peer.offerText(what.text);
      out.connected("mailbox");
      out.note("Text message sent; the wormhole peer's session is over (it takes one message per code).");
      return EXIT_OK;
    } catch (err) {
      await peer.close("errory");
      return reportPlainFailure(err, out);
    }
  }
  const sendable = what.sendable ?? sendableKind(what.path);
  if (sendable.kind === "folder" && folders?.send) return folders.send(peer, what.path, out);
  if (sendable.kind !== "file") {
    await peer.decline("the sender cannot read the file");
    // A folder where no folder can be sent: checkReadableFile's words for it.
    const problem =
      sendable.kind === "problem"
        ? sendable.error
        : new TransferError("E_NOT_A_FILE", `${what.path} is a directory, not a file`);
    return reportPlainFailure(problem, out);
  }
  const size = sendable.size;
  const name = basename(what.path);
  const info: TransferInfo = { id: 1, direction: "send", name: shortenedName(name), size };
  if (info.name !== name) {
    out.note(
      `The file's name is ${Buffer.byteLength(name)} bytes long, more than ${MAX_SAFE_NAME_BYTES} (a wormhole receiver may fail to store it): it is offered cut to ${MAX_SAFE_NAME_BYTES} bytes.`,
    );
  }
  const pipe = await offerToPlain(peer, out, info, { kind: "file", name: info.name, size });
  if (typeof pipe === "number") return pipe;
  try {
    const sent = await sendOverTransit(
      pipe,
      () => openPieceReader(what.path),
      size,
      (bytes) => out.progressed(info, bytes),
      limits,
    );
    out.done(plainSentDone(info, sent));
    return EXIT_OK;
  } catch (err) {
    return reportPlainFailure(err, out, info);
  }
}
