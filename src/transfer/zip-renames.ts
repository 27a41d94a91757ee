/**
 * A wormhole folder's zip entries stored under a numbered name: their name made safe was taken in
 * their folder (by `.env` made `_env`, say). Which went where, from the extraction plan, for the
 * lines Parley's own folders get too (cli/renamed-entries.ts): the numbered entry, and the one
 * holding the name when it too was stored under another name than the zip gives. And for --json,
 * every entry stored under another name than the zip gives (zipStoredNames), as Parley's own
 * folders' `done` events tell a script each entry's place. Pure.
 */

import { sanitizeFileName } from "./file-names.ts";
import type { ZipPlan } from "./zip-plan.ts";

/** Root-relative paths ("photos/.env" as sent, "photos (1)/_env" as stored), "/"-joined. */
export interface ZipRename {
  readonly sent: string;
  readonly stored: string;
  /** A numbered entry's: the name it would have had, which was taken. */
  readonly taken?: string;
}

/** An entry (a file, or a folder: what is inside it goes with it) stored under another name than the zip gives. */
export interface ZipStored {
  /** Below the folder, as the zip names it ("sub/.env"). */
  readonly sent: string;
  /** Below the folder, as stored ("sub/_env (1)"). */
  readonly stored: string;
  /** A numbered entry's: the name it would have had, which was taken, below the folder ("sub/_env"). */
  readonly taken?: string;
  readonly dir: boolean;
}

/** Every entry of `plan` whose own name is not the zip's (made safe, or numbered), in the zip's order. */
export function zipStoredNames(plan: ZipPlan): ZipStored[] {
  const out: ZipStored[] = [];
  plan.items.forEach((item, i) => {
    if (item.sent === undefined) return;
    const safe = sanitizeFileName(item.sent);
    const taken = item.name === safe ? {} : { taken: pathOf(plan, i, false, safe) };
    out.push({ sent: pathOf(plan, i, true), stored: pathOf(plan, i, false), ...taken, dir: item.kind === "dir" });
  });
  return out;
}

/** Item `index`'s path below the folder, "/"-joined: as sent or as stored, its own name `last` when given. */
function pathOf(plan: ZipPlan, index: number, sent: boolean, last?: string): string {
  const parts: string[] = [];
  for (let i = index; i >= 0; ) {
    const item = plan.items[i] as ZipPlan["items"][number];
    parts.push(i === index && last !== undefined ? last : sent ? (item.sent ?? item.name) : item.name);
    i = item.parent;
  }
  return parts.reverse().join("/");
}

/**
 * @param sentRoot - the folder's name as offered
 * @param storedRoot - the folder's name as stored ("photos (1)")
 */
export function zipRenames(plan: ZipPlan, sentRoot: string, storedRoot: string): ZipRename[] {
  const items = plan.items;
  const at = new Map<string, number>(); // "parent/name" -> item
  items.forEach((item, i) => {
    at.set(`${item.parent}/${item.name}`, i);
  });
  const path = (index: number, sent: boolean, last?: string): string =>
    `${sent ? sentRoot : storedRoot}/${pathOf(plan, index, sent, last)}`;
  const out: ZipRename[] = [];
  const said = new Set<number>();
  items.forEach((item, i) => {
    if (item.sent === undefined) return;
    const safe = sanitizeFileName(item.sent);
    if (item.name === safe) return; // made safe only: said beside the entry numbered after it
    out.push({ sent: path(i, true), stored: path(i, false), taken: path(i, false, safe) });
    const holder = at.get(`${item.parent}/${safe}`);
    if (holder === undefined || said.has(holder) || items[holder]?.sent === undefined) return;
    said.add(holder);
    out.push({ sent: path(holder, true), stored: path(holder, false) });
  });
  return out;
}
