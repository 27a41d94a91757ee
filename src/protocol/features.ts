/**
 * HELLO features: names a peer ignores if it does not know them, and what the peer's say. Pure.
 */

import type { Hello } from "./message-types.ts";

/**
 * The features. "early-acks": this side ACKs
 * early in a session (every quarter of the DATA consumed so far, at least 4 KiB, until the
 * usual cadence), so a sender may start with a window smaller than the usual ACK cadence.
 * "relay-window": on a connection through a relay this side's send window stays at 1 MiB or
 * more once past its young start, so its peer may ACK it every 512 KiB there (session/limits.ts).
 * "receive-only": this side will send nothing (`parley receive`): a peer that only receives too
 * knows at once that nothing will come, instead of both waiting in silence. "keeps-nothing": this
 * side writes what it receives to its output as it comes (`receive --stdout`) and keeps nothing of
 * a file cut short, so its sender never promises that sending again resumes it.
 * "refused-folder-ends" (session 11): sending, this side offers no more entries of a folder the
 * peer refused whole (REJECT E_NO_SPACE, detail "folder"); receiving, it counts the entries not
 * offered yet of a folder it refused whole as refused with it. Each side does so only when the
 * peer's HELLO says it too: with an older peer the folder is offered and declined entry by entry.
 * "folder-end" (session 14): this side reads FOLDER_END (a folder its sender ended whole); a
 * sender sends it only to a peer that says so (an older one ends the connection on the tag).
 * "leaving" (session 28): this side reads LEAVING (the peer typed `exit` with transfers under
 * way: the connection closes once they end); a side sends it only to a peer that says so.
 * "asks" (session 28): this side asks its user before it takes each offer (`receive --ask`; a
 * folder once), so its sender says what its offers wait for instead of standing silent.
 */
export const Feature = {
  EarlyAcks: "early-acks",
  RelayWindow: "relay-window",
  ReceiveOnly: "receive-only",
  KeepsNothing: "keeps-nothing",
  RefusedFolderEnds: "refused-folder-ends",
  FolderEnd: "folder-end",
  Asks: "asks",
  Leaving: "leaving",
} as const;
/** The features this build offers in its HELLO. */
export const OWN_FEATURES: readonly string[] = [
  Feature.EarlyAcks,
  Feature.RelayWindow,
  Feature.RefusedFolderEnds,
  Feature.FolderEnd,
  Feature.Leaving,
];

/** The peer's HELLO says it will send nothing (`parley receive`: Feature.ReceiveOnly). */
export function receivesOnly(hello: Hello): boolean {
  return hello.features.includes(Feature.ReceiveOnly);
}

/**
 * The features a `parley receive` adds to its HELLO; `toOutput`: it writes the file to its output
 * (--stdout); `asks`: it asks its user about each offer (--ask).
 */
export function receiverFeatures(toOutput: boolean, asks = false): string[] {
  return [Feature.ReceiveOnly, ...(toOutput ? [Feature.KeepsNothing] : []), ...(asks ? [Feature.Asks] : [])];
}

/** The peer's HELLO says it asks its user before it takes an offer (`receive --ask`: Feature.Asks). */
export function asksFirst(hello: Hello): boolean {
  return hello.features.includes(Feature.Asks);
}

/** The peer's HELLO says it keeps nothing of a file cut short (`receive --stdout`: Feature.KeepsNothing). */
export function keepsNothing(hello: Hello): boolean {
  return hello.features.includes(Feature.KeepsNothing);
}

/** The peer's HELLO says a folder refused whole ends there (Feature.RefusedFolderEnds). */
export function endsRefusedFolders(hello: Hello | undefined): boolean {
  return hello?.features.includes(Feature.RefusedFolderEnds) ?? false;
}

/** The peer's HELLO says it reads LEAVING (Feature.Leaving). */
export function readsLeaving(hello: Hello | undefined): boolean {
  return hello?.features.includes(Feature.Leaving) ?? false;
}

/** The peer's HELLO says it reads FOLDER_END (Feature.FolderEnd). */
export function readsFolderEnd(hello: Hello | undefined): boolean {
  return hello?.features.includes(Feature.FolderEnd) ?? false;
}
