/**
 * Folders with a plain magic-wormhole client, both ways, as one zip (its `directory` offer),
 * plugged into plain-run.ts's PlainFolders:
 *
 *   `wormhole send DIR`  -> us: the zip into a hidden `.part` (ZipPart, SHA-256 for the ack),
 *                            then checked against the offer and extracted (zip-extract.ts) into
 *                            a new folder, then acked; a refused zip leaves nothing, and its
 *                            ack says why (the sender fails)
 *   us -> `wormhole receive`: the folder zipped to a temp file (zip-build.ts), offered with
 *                            its zipsize, sent as a file, the receiver's ack checked
 *
 * The zip library loads only when a folder is actually sent or received.
 * Progress and totals count the zip's bytes (what crosses the wire); the done line names the
 * folder, its files and its unpacked bytes.
 */

import type { OfferDecision, TransferInfo } from "../session/index.ts";
import type { PlainPeer } from "../session/plain-peer.ts";
import { receiveOverTransit } from "../session/plain-receive.ts";
import { plainAckWaitMs, sendOverTransit } from "../session/plain-transfer.ts";
import { type DirectoryOffer, openPieceReader, ZipError, type ZipErrorCode, ZipPart } from "../transfer/index.ts";
import type { BuiltZip } from "../transfer/zip-build.ts";
import type { ExtractedFolder } from "../transfer/zip-extract.ts";
import { count } from "./counts.ts";
import { EXIT_OK, EXIT_TRANSFER } from "./exit-codes.ts";
import {
  acceptPlainTransit,
  declinedByDecide,
  declineUnstorable,
  type PlainFolders,
  type PlainOfferOf,
  type PlainOutput,
  plainFolderInfo,
  plainReceivedDone,
  reportPlainFailure,
} from "./plain-run.ts";
import { offerToPlain, plainSentDone } from "./plain-send.ts";
import { shortenedNameLines, storedLine } from "./renamed-entries.ts";
import { skippedLines } from "./send-plan.ts";

/** The one mode wormhole clients write. */
const ZIP_MODE = "zipfile/deflated";

export interface PlainFolderOptions {
  /** The download directory. */
  readonly dir: string;
  /** Asks (--ask) before accepting; absent: accept. */
  readonly decide?: (info: TransferInfo) => Promise<OfferDecision>;
  /**
   * A folder is being received or sent: `stop` removes what it wrote (received: its `.part` zip and
   * working folder; sent: its temp zip), for a run ending early (a signal). Harmless once it is over.
   */
  readonly started?: (stop: () => void) => void;
  /** Most bytes a second a folder's zip is sent at (`--limit-rate`); unlimited when absent. */
  readonly bytesPerSecond?: number;
}

/** Why a zip was refused, in words. */
const ZIP_WORDS: Record<ZipErrorCode, string> = {
  E_ZIP_CORRUPT: "the folder's zip is damaged",
  E_ZIP_BAD_NAME: "the folder's zip names a path outside the folder",
  E_ZIP_LINK: "the folder's zip holds a symbolic link",
  E_ZIP_SPECIAL: "the folder's zip holds a device, FIFO or socket",
  E_ZIP_ENCRYPTED: "the folder's zip is encrypted",
  E_ZIP_METHOD: "the folder's zip uses an unknown compression method",
  E_ZIP_DUPLICATE: "the folder's zip names one entry twice",
  E_ZIP_TOO_MANY: "the folder's zip holds more files than offered",
  E_ZIP_TOO_LARGE: "the folder's zip unpacks to more bytes than offered",
  E_ZIP_BOMB: "the folder's zip is a zip bomb",
  E_ZIP_SIZE: "an entry of the folder's zip holds more (or fewer) bytes than it declares",
};

/** What the sender of a folder that could not be stored (not a refused zip) reads: no local path. */
const NOT_STORED_WORDS = "the receiver could not store the folder; nothing was stored";
/** ... and of one whose receiver was stopped (a signal) while it unpacked it. */
const STOPPED_WORDS = "the receiver was stopped while it unpacked the folder; nothing was stored";

/** The words for a refused zip: "... (entry: name)". */
export function zipRefusalWords(err: ZipError): string {
  const entry = err.entry === undefined ? "" : ` (entry ${JSON.stringify(err.entry.slice(0, 200))})`;
  return `refused: ${ZIP_WORDS[err.zipCode]}${entry}; nothing was stored`;
}

export function plainFolders(options: PlainFolderOptions): PlainFolders {
  return {
    receive: (peer, offer, out) => receiveFolder(peer, offer, out, options),
    send: (peer, path, out) => sendFolder(peer, path, out, options),
  };
}

type DirectoryOfferMessage = Extract<PlainOfferOf, { kind: "directory" }>;

async function receiveFolder(
  peer: PlainPeer,
  offer: DirectoryOfferMessage,
  out: PlainOutput,
  options: PlainFolderOptions,
): Promise<number> {
  const wanted: DirectoryOffer = {
    dirname: offer.name,
    zipsize: offer.zipSize,
    numbytes: offer.numBytes,
    numfiles: offer.numFiles,
  };
  // The offered name as it will be stored (the reporter shows a receiver's names as stored).
  const offered = plainFolderInfo(offer);
  out.note(
    `The wormhole peer offers the folder ${offered.name}: ${count(offer.numFiles, "file")}, ${count(offer.numBytes, "byte")} unpacked, sent as a ${offer.zipSize}-byte zip.`,
  );
  if (offer.mode !== ZIP_MODE) {
    await peer.decline("unknown mode");
    out.failed(offered, `declined: the folder comes in an unknown form (${offer.mode})`, "E_UNSUPPORTED_OFFER");
    return EXIT_TRANSFER;
  }
  const declined = await declinedByDecide(peer, out, offered, options.decide);
  if (declined !== undefined) return declined;
  // The offer is said once the path is (as from a Parley peer: the path, then "Receiving folder"),
  // or with the failure that comes before it; the note above said what comes.
  const sayOffered = (): void => {
    if (!options.decide) out.offered(offered);
  };
  let part: ZipPart;
  try {
    part = ZipPart.open(options.dir, wanted);
  } catch (err) {
    return declineUnstorable(peer, out, offered, err, sayOffered);
  }
  // Named from its first line as it will be stored (`gift (1)` where gift is taken), as a
  // Parley folder is: the name is given once it is unpacked, so this is the one free now.
  const info: TransferInfo = { ...offered, name: part.likelyName() };
  let removeWork: (() => void) | undefined;
  /** While the zip is unpacked: refuses it to the sender (its ack), who waits for it meanwhile. */
  let refuse: ((words: string) => void) | undefined;
  options.started?.(() => {
    refuse?.(STOPPED_WORDS);
    part.remove();
    removeWork?.();
  });
  const pipe = await acceptPlainTransit(peer, out, info, sayOffered, () => part.abort());
  if (typeof pipe === "number") return pipe;
  try {
    let unpacked: ExtractedFolder | undefined;
    // Unpacked before the ack goes back, as wormhole receive does: a zip refused, a disk that
    // fills or a Ctrl-C meanwhile is its sender's failure too, not "Transfer complete".
    const zip = await receiveOverTransit(pipe, part, wanted.zipsize, (bytes) => out.progressed(info, bytes), {
      store: async () => {
        out.note("Checking and unpacking the folder's zip...");
        const { extractZipFolder } = await import("../transfer/zip-extract.ts");
        unpacked = await extractZipFolder(part.openFd, options.dir, wanted, {
          onWorkFolder: (_path, remove) => {
            removeWork = remove;
          },
        });
        // Renamed into place: complete, nothing to remove or refuse any more (the ack follows
        // at once, in this turn of the event loop: no signal comes between).
        removeWork = undefined;
        refuse = undefined;
      },
      refusal: (err) => (err instanceof ZipError ? zipRefusalWords(err) : NOT_STORED_WORDS),
      storing: (refuseNow) => {
        refuse = refuseNow;
      },
    });
    const folder = unpacked as ExtractedFolder;
    const done = plainReceivedDone(
      { ...info, name: folder.name },
      {
        bytes: zip.bytes,
        path: folder.path,
        algo: "sha256",
        digest: zip.digest,
        ...(folder.detached ? { detached: true } : {}),
      },
    );
    out.done(done);
    for (const entry of folder.stored) out.entryStored(done, offer.name, entry);
    out.note(
      `${count(folder.files, "file")} and ${count(folder.dirs, "folder")} (${count(folder.bytes, "byte")} unpacked) in ${folder.path}; the SHA-256 above is of the zip they came in.`,
    );
    for (const r of folder.renamed) out.note(storedLine("receive", r.sent, r.stored, r.taken));
    const said = new Set(folder.renamed.map((r) => r.sent));
    for (const line of shortenedNameLines(offer.name, folder.name, folder.stored, said)) out.note(line);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof ZipError) {
      out.failed(info, zipRefusalWords(err), err.zipCode);
      return EXIT_TRANSFER;
    }
    return reportPlainFailure(err, out, info);
  } finally {
    refuse = undefined;
    part.remove();
  }
}

async function sendFolder(
  peer: PlainPeer,
  path: string,
  out: PlainOutput,
  options: PlainFolderOptions,
): Promise<number> {
  // A signal while the folder is zipped (a big one takes a while), while the receiver decides
  // (it may take any time) or while the zip is sent ends the run without the finally below: the
  // temp zip is removed by the run's end instead.
  let removeZip = (): void => {};
  options.started?.(() => removeZip());
  let zip: BuiltZip;
  try {
    const { buildFolderZip } = await import("../transfer/zip-build.ts");
    zip = await buildFolderZip(path, {
      onWorkFolder: (remove) => {
        removeZip = remove;
      },
    });
  } catch (err) {
    await peer.decline("the sender cannot read the folder");
    return reportPlainFailure(err, out);
  }
  try {
    for (const line of skippedLines(zip.skipped.map((e) => ({ ...e, rel: `${zip.dirname}/${e.rel}` })))) out.note(line);
    const info: TransferInfo = { id: 1, direction: "send", name: `${zip.dirname}/`, size: zip.zipsize };
    const pipe = await offerToPlain(peer, out, info, {
      kind: "directory",
      name: zip.dirname,
      mode: ZIP_MODE,
      zipSize: zip.zipsize,
      numBytes: zip.numbytes,
      numFiles: zip.numfiles,
    });
    if (typeof pipe === "number") return pipe;
    try {
      const sent = await sendOverTransit(
        pipe,
        () => openPieceReader(zip.path),
        zip.zipsize,
        (bytes) => out.progressed(info, bytes),
        // wormhole receive unpacks the zip before it acks it.
        {
          ackMs: plainAckWaitMs(zip.numbytes, zip.numfiles),
          ...(options.bytesPerSecond === undefined ? {} : { bytesPerSecond: options.bytesPerSecond }),
        },
      );
      out.done(plainSentDone(info, sent));
      // numfiles counts the zip's entries: its files and empty folders (the receiver unpacks both).
      const emptyFolders = zip.numfiles - zip.files;
      const folders = emptyFolders > 0 ? ` and ${count(emptyFolders, "empty folder")}` : "";
      out.note(
        `${count(zip.files, "file")}${folders} (${count(zip.numbytes, "byte")}) sent as a ${zip.zipsize}-byte zip.`,
      );
      return EXIT_OK;
    } catch (err) {
      return reportPlainFailure(err, out, info);
    }
  } finally {
    zip.remove();
  }
}
