/** `parley receive --ask`: the question for each offer (a folder's once, for all its entries). */

import type { TransferInfo } from "../session/index.ts";
import { sanitizeFileName, sanitizeFolderName } from "../transfer/file-names.ts";
import type { Asker } from "../ui/asker.ts";
import { sanitizeForTerminal } from "../ui/index.ts";
import { count, sizeWords } from "./counts.ts";
import { quotedName } from "./renamed-entries.ts";

/**
 * A name offered, as the lines after the question will name it (made safe: `ab.txt`), and the
 * offered one beside it when that differs (`; sent as "a\u0007b.txt"`, escaped as the Stored
 * lines write it): the question showed the offered name escaped, every later line the stored one.
 * @returns [the name, the words to put after the size]
 */
function asStored(offered: string, safe = sanitizeFileName(offered)): [string, string] {
  return [sanitizeForTerminal(safe), safe === offered ? "" : `; sent as ${quotedName(offered)}`];
}

/**
 * Folders' answers kept (the latest asked or used): a folder's entries come one after another, so
 * an older one is over. A peer offering and cancelling folder after folder held a promise each
 * (attack31); a folder let go and offered again is asked again.
 */
export const MAX_FOLDER_ANSWERS = 1_024;

/**
 * --ask: "Accept a.txt (6 bytes)?" for a file; for a folder, whose entries come as offers of
 * their own, "Accept folder photos (2,005 entries, 1.2 GiB)?" once, its answer for them all; a plain
 * wormhole peer's folder, one zip, "Accept folder photos (2,005 files, 1.2 GiB)?" (its size unpacked).
 * An offer cancelled while an earlier question waits for its answer is never asked.
 * @param folderAnswers - this run's answers for folders, by the sender's folder id (the latest
 *   MAX_FOLDER_ANSWERS, oldest first)
 * @param unasked - the question was not shown: the input had ended before its turn (Asker.ask)
 */
export function askFor(
  asker: Asker,
  offer: TransferInfo,
  stillWanted: () => boolean,
  folderAnswers: Map<number, Promise<boolean>>,
  unasked?: () => void,
): Promise<boolean> {
  const folder = offer.folder;
  const zipped = offer.zippedFolder;
  if (zipped) {
    // Made safe already (plain-folders.ts): the name it is said by from its first line.
    const what = `${count(zipped.files, "file")}, ${sizeWords(zipped.bytes)}`;
    return asker.ask(`Accept folder ${sanitizeForTerminal(offer.name)} (${what})? [y/N] `, stillWanted, unasked);
  }
  if (!folder) {
    const size = offer.size === null ? "size unknown" : sizeWords(offer.size);
    const [name, sent] = asStored(offer.name);
    return asker.ask(`Accept ${name} (${size}${sent})? [y/N] `, stillWanted, unasked);
  }
  let answer = folderAnswers.get(folder.group);
  if (answer)
    folderAnswers.delete(folder.group); // set again below: the latest used
  else {
    const [name, sent] = asStored(folder.root, sanitizeFolderName(folder.root));
    const what = `${count(folder.entries, "entry", "entries")}, ${sizeWords(folder.bytes)}${sent}`;
    answer = asker.ask(`Accept folder ${name} (${what})? [y/N] `, stillWanted, unasked);
  }
  folderAnswers.set(folder.group, answer);
  if (folderAnswers.size > MAX_FOLDER_ANSWERS) folderAnswers.delete(folderAnswers.keys().next().value as number);
  return answer;
}

/**
 * The offers --ask declined without a question (the input had ended before their turn), so their
 * failure lines are summed up, not said one by one: a file's id until its failure is told (then
 * forgotten: a sender offering file after file into an ended input grew a set by each, for the
 * whole run), a folder's group among the latest MAX_FOLDER_ANSWERS (its entries fail one by one).
 */
export class DeclinedUnasked {
  private readonly ids = new Set<number>();
  private readonly groups = new Set<number>();

  add(offer: TransferInfo): void {
    if (!offer.folder) {
      this.ids.add(offer.id);
      return;
    }
    this.groups.delete(offer.folder.group); // added again: the latest
    this.groups.add(offer.folder.group);
    if (this.groups.size > MAX_FOLDER_ANSWERS) this.groups.delete(this.groups.values().next().value as number);
  }

  /** Whether `info`'s offer was declined unasked; a file's is forgotten with this answer (asked once, at its failure). */
  take(info: TransferInfo): boolean {
    return info.folder ? this.groups.has(info.folder.group) : this.ids.delete(info.id);
  }

  /** Files and folders remembered. */
  get size(): number {
    return this.ids.size + this.groups.size;
  }
}
