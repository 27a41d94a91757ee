/** `parley receive --ask`: the question for each offer (a folder's once, for all its entries). */

import type { TransferInfo } from "../session/index.ts";
import type { Asker } from "../ui/asker.ts";
import { sanitizeForTerminal } from "../ui/index.ts";
import { count, sizeWords } from "./counts.ts";

/**
 * --ask: "Accept a.txt (6 bytes)?" for a file; for a folder, whose entries come as offers of
 * their own, "Accept folder photos (2,005 entries, 1.2 GiB)?" once, its answer for them all; a plain
 * wormhole peer's folder, one zip, "Accept folder photos (2,005 files, 1.2 GiB)?" (its size unpacked).
 * An offer cancelled while an earlier question waits for its answer is never asked.
 * @param folderAnswers - this run's answers for folders, by the sender's folder id
 */
export function askFor(
  asker: Asker,
  offer: TransferInfo,
  stillWanted: () => boolean,
  folderAnswers: Map<number, Promise<boolean>>,
): Promise<boolean> {
  const folder = offer.folder;
  const zipped = offer.zippedFolder;
  if (zipped) {
    const what = `${count(zipped.files, "file")}, ${sizeWords(zipped.bytes)}`;
    return asker.ask(`Accept folder ${sanitizeForTerminal(offer.name)} (${what})? [y/N] `, stillWanted);
  }
  if (!folder) {
    const size = offer.size === null ? "size unknown" : sizeWords(offer.size);
    return asker.ask(`Accept ${sanitizeForTerminal(offer.name)} (${size})? [y/N] `, stillWanted);
  }
  let answer = folderAnswers.get(folder.group);
  if (!answer) {
    const what = `${count(folder.entries, "entry", "entries")}, ${sizeWords(folder.bytes)}`;
    answer = asker.ask(`Accept folder ${sanitizeForTerminal(folder.root)} (${what})? [y/N] `, stillWanted);
    folderAnswers.set(folder.group, answer);
  }
  return answer;
}
