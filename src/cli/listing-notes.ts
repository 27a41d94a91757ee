/**
 * The notes of the chat's `transfer` while it lists a folder (or reads the names a wildcard
 * matches) before offering it: when to say how far it is (after LISTING_NOTE_AFTER_MS, then every
 * LISTING_NOTE_EVERY_MS, so a quick listing says nothing and a long one is not silent) and in
 * which words (listingWords: the entries so far, or the directory whose names are being read or
 * sorted, when the count stands still). Chat goes on meanwhile (chat-connected.ts).
 */

import type { NamesRead } from "../transfer/index.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";

/** A folder still being listed after this long says so (and again every LISTING_NOTE_EVERY_MS). */
const LISTING_NOTE_AFTER_MS = 1_000;
const LISTING_NOTE_EVERY_MS = 5_000;

/**
 * How far a folder's listing is: "photos: 1234 entries so far", or while a directory's names are
 * read or sorted (the count stands still meanwhile: a million names take seconds), that:
 * "photos: reading the names in photos/raw, 3072 so far, after 1234 entries".
 */
export function listingWords(path: string, entries: number, reading?: NamesRead): string {
  const folder = sanitizeForTerminal(path);
  if (!reading) return `${folder}: ${entries} entries so far`;
  const dir = sanitizeForTerminal(reading.dir);
  const after = entries > 0 ? `, after ${entries} entries` : "";
  return reading.sorting
    ? `${folder}: sorting the ${reading.names} names in ${dir}${after}`
    : `${folder}: reading the names in ${dir}, ${reading.names} so far${after}`;
}

/**
 * The listing's progress callback (send-plan.ts listFoldersSoon's): prints a note when one is due.
 * @param now - ms, the chat's clock
 */
export function listingNotes(
  now: () => number,
  print: (line: string) => void,
): (path: string, entries: number, reading?: NamesRead) => void {
  const started = now();
  let saidAt = 0;
  return (path, entries, reading) => {
    const at = now();
    if (at - started < LISTING_NOTE_AFTER_MS || (saidAt > 0 && at - saidAt < LISTING_NOTE_EVERY_MS)) return;
    saidAt = at;
    print(`Listing ${listingWords(path, entries, reading)} (chat goes on; the folder is offered once it is listed).`);
  };
}
