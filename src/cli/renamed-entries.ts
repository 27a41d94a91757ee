/**
 * Folder entries whose names are the same once made safe (`.env` and `_env`, `a<LF>b` and `ab`):
 * the receiver stores the second under a numbered name (`_env (1)`). This says which entry went
 * where, on either side: the numbered one ("Stored "photos/_env" as photos/_env (1): photos/_env
 * was taken."), and the one holding the name when it too was stored under another name than sent
 * (`.env` as `_env`), whichever of the two ends first. The sender reads the names from RECEIVED
 * (TransferDone.storedAs, storedRoot). The receiver also says each entry a received-name rule
 * stored elsewhere than its path says (`package.json` as `_package.json`, a subfolder
 * `node_modules` as `_node_modules`, characters left out), ten a folder and then a count, as a
 * plain folder's (shortenedNameLines); not a leading dot made `_` alone. Pure bookkeeping: no I/O.
 */

import { basename } from "node:path";
import type { TransferDone } from "../session/index.ts";
import { numberedName, sanitizeFileName, sanitizeFolderName } from "../transfer/file-names.ts";
import { sanitizeForTerminal } from "../ui/sanitize.ts";
import { count } from "./counts.ts";

/** Where a folder's entry was stored, beside the names it was sent as and would have had. */
interface Placed {
  /** As sent, root-relative ("photos/.env"). */
  readonly sent: string;
  /** As stored, root-relative under the stored root ("photos (1)/_env (1)"). */
  readonly stored: string;
  /** The name it would have had, made safe and not numbered ("photos (1)/_env"). */
  readonly safe: string;
}

/** Where a finished folder entry (a file) went; undefined when the peer did not say (an older receiver). */
function placed(done: TransferDone): Placed | undefined {
  const folder = done.folder;
  const last = folder?.path.at(-1);
  if (!folder || folder.dir || last === undefined) return undefined;
  let root: string | undefined;
  let base: string | undefined;
  if (done.direction === "receive") {
    const parts = done.path?.split("/") ?? [];
    root = parts.at(-1 - folder.path.length);
    base = parts.at(-1);
  } else {
    root = done.storedRoot ?? sanitizeFolderName(folder.root);
    base = done.storedAs;
  }
  if (root === undefined || base === undefined) return undefined;
  // Subfolders are never numbered: names the same once made safe share one.
  const dirs = folder.path.slice(0, -1).map(sanitizeFileName);
  const at = (name: string) => [root, ...dirs, name].join("/");
  return { sent: [folder.root, ...folder.path].join("/"), stored: at(base), safe: at(sanitizeFileName(last)) };
}

/** A name's leading dots made `_` (".env" as "_env"): the rule the README states, not said per entry. */
function undotted(name: string): string {
  return name.replace(/^\.+/, (dots) => "_".repeat(dots.length));
}

/**
 * A received folder's file stored under another path in its folder than sent, not by leading dots
 * made `_` alone (`package.json` as `_package.json`, `node_modules/x.js` as `_node_modules/x.js`,
 * `a<BEL>b` as `ab`): the names as sent and as stored, from their roots; else undefined.
 */
function ruleRenamed(done: TransferDone): { sent: string; stored: string } | undefined {
  const folder = done.folder;
  if (done.direction !== "receive" || !folder || folder.dir || done.path === undefined) return undefined;
  const parts = done.path.split("/");
  const n = folder.path.length;
  const root = parts.at(-1 - n);
  const stored = parts.slice(-n);
  if (root === undefined || stored.length !== n) return undefined;
  if (folder.path.every((name, i) => undotted(name) === stored[i])) return undefined;
  return { sent: [folder.root, ...folder.path].join("/"), stored: [root, ...stored].join("/") };
}

/** True when `stored` is `safe` numbered ("_env (1)" of "_env"). */
function isNumbered(stored: string, safe: string): boolean {
  const n = / \((\d{1,9})\)(?:\.[^.]*)?$/.exec(stored)?.[1];
  return n !== undefined && Number(n) > 0 && numberedName(safe, Number(n)) === stored;
}

/**
 * For the JSON `done` event: the root-relative name a numbered folder entry would have had, which
 * was taken ("photos/_env"); undefined for any other transfer.
 */
export function takenName(done: TransferDone): string | undefined {
  const p = placed(done);
  return p && isNumbered(basename(p.stored), basename(p.safe)) ? p.safe : undefined;
}

/** A name as sent, quoted, every character a name made safe drops shown as an escape ("a\nb"). */
export function quotedName(name: string): string {
  const escaped = JSON.stringify(name).replace(
    /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu,
    (ch) => `\\u${(ch.codePointAt(0) as number).toString(16).padStart(4, "0")}`,
  );
  return sanitizeForTerminal(escaped);
}

/**
 * "Stored "photos/_env" as photos/_env (1): photos/_env was taken." (`taken` set: a numbered
 * entry), or "Stored "photos/.env" as photos/_env."; the sender's start "The receiver stored".
 */
export function storedLine(direction: TransferDone["direction"], sent: string, stored: string, taken?: string): string {
  const lead = direction === "receive" ? "Stored" : "The receiver stored";
  const why = taken === undefined ? "" : `: ${sanitizeForTerminal(taken)} was taken`;
  return `${lead} ${quotedName(sent)} as ${sanitizeForTerminal(stored)}${why}.`;
}

/** Names of a plain wormhole folder's entries said one by one before the rest are counted. */
const MAX_SHORTENED_LINES = 10;

/**
 * A plain wormhole folder's entries whose own names changed on the way to the disk (control, bidi
 * or invisible characters left out, spaces trimmed, a name cut at 240 bytes, a `_` before a name
 * npm or Bun read: `package.json` as `_package.json`, a leading dot found once such characters
 * went): one line each (`Stored "photos/a\nb" as photos/ab.`, the dropped characters shown
 * escaped), then a count, in words that fit each of these reasons (not "characters left out":
 * `_package.json` lost none). A leading dot made `_` alone is not said (the README's rule, and often many entries);
 * nor an entry zipRenames' lines say already (`said`: a numbered one, and the one holding its
 * name). --json told them only in its `stored` events, so a person saw a file of another name
 * with no word (attack24).
 * @param sentRoot - the folder's name as offered; `storedRoot` as stored ("photos (1)")
 * @param said - root-relative names as sent ("photos/.env") whose lines were said
 */
export function shortenedNameLines(
  sentRoot: string,
  storedRoot: string,
  stored: readonly { readonly sent: string; readonly stored: string; readonly taken?: string }[],
  said: ReadonlySet<string>,
): string[] {
  const shortened = stored.filter((e) => {
    if (e.taken !== undefined || said.has(`${sentRoot}/${e.sent}`)) return false;
    const own = basename(e.sent);
    return sanitizeFileName(own) !== undotted(own);
  });
  const lines = shortened
    .slice(0, MAX_SHORTENED_LINES)
    .map((e) => storedLine("receive", `${sentRoot}/${e.sent}`, `${storedRoot}/${e.stored}`));
  const more = moreRenamedLine(shortened.length);
  return more === undefined ? lines : [...lines, more];
}

/** The count after a folder's MAX_SHORTENED_LINES lines of renamed entries, when `renamed` is more. */
function moreRenamedLine(renamed: number): string | undefined {
  const more = renamed - MAX_SHORTENED_LINES;
  return more > 0
    ? `... and ${count(more, "more entry", "more entries")} stored under other names than sent.`
    : undefined;
}

export class RenamedEntries {
  /**
   * Per folder (direction and group): entries stored under their safe name though sent under
   * another, not said yet (by that name), the names a numbered entry found taken, and (the
   * receiver) how many entries a received-name rule stored elsewhere (ruleRenamed: said up to
   * MAX_SHORTENED_LINES, then counted).
   */
  private readonly folders = new Map<string, { renamed: Map<string, Placed>; taken: Set<string>; byRule: number }>();

  /** A folder's entry was stored: @returns the lines that say where it (and the entry holding its name) went */
  finished(done: TransferDone): string[] {
    const p = placed(done);
    if (!p || !done.folder) return [];
    const key = `${done.direction}:${done.folder.group}`;
    const numbered = p.stored !== p.safe && isNumbered(basename(p.stored), basename(p.safe));
    const renamed = p.stored === p.safe && basename(p.sent) !== basename(p.safe);
    // A numbered one's line says where it went, whatever else changed.
    const byRule = numbered ? undefined : ruleRenamed(done);
    if (!numbered && !renamed && !byRule) return [];
    const f = this.folders.get(key) ?? { renamed: new Map<string, Placed>(), taken: new Set<string>(), byRule: 0 };
    this.folders.set(key, f);
    const line = (e: Placed, taken?: string) => storedLine(done.direction, e.sent, e.stored, taken);
    // Said now (or counted past ten): not again as the holder of a name a numbered one finds taken.
    if (byRule) return ++f.byRule > MAX_SHORTENED_LINES ? [] : [storedLine("receive", byRule.sent, byRule.stored)];
    if (renamed) {
      if (f.taken.has(p.safe)) return [line(p)];
      f.renamed.set(p.safe, p);
      return [];
    }
    f.taken.add(p.safe);
    const lines = [line(p, p.safe)];
    const holder = f.renamed.get(p.safe);
    if (holder) lines.push(line(holder));
    f.renamed.delete(p.safe);
    return lines;
  }

  /**
   * The folder ended (or the session): forgotten.
   * @returns the count of its entries stored elsewhere by a rule past the ten said, if any
   */
  forget(direction: TransferDone["direction"], group: number): string[] {
    const key = `${direction}:${group}`;
    const more = moreRenamedLine(this.folders.get(key)?.byRule ?? 0);
    this.folders.delete(key);
    return more === undefined ? [] : [more];
  }
}
