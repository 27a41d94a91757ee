/**
 * Files Parley reads a secret from (`--code-file`, the resume secret): one warning line when
 * other users of the machine can read or change one, as ssh says of a key file. Parley warns
 * and goes on (it does not refuse, as ssh does): a connection code is good for one listener's
 * run, the file may sit on a mount whose modes mean nothing (vfat, a CI runner's secrets), and
 * the user, told, decides. Pure: the caller stats the file.
 */

import { sanitizeForTerminal } from "../ui/sanitize.ts";

/** What the check needs of a file's stat. */
export interface SecretFileStat {
  /** st_mode: only the type and permission bits are looked at. */
  readonly mode: number;
  readonly uid: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFSOCK = 0o140000;

/**
 * The warning for a secret file others can reach, or undefined when it is private. Only a
 * regular file's mode is judged: a pipe (`--code-file <(pass show code)`) or a terminal is no file
 * to chmod. Any file of another user is: a named pipe another user made where the file was to be
 * (`mkfifo /tmp/code` in a shared folder) hands us whatever code they write into it, without a word.
 * @param label - how the line names the file (`--code-file code.txt`, the resume secret's path)
 * @param path - the path chmod is told to fix
 * @param ownUid - this process's uid; a file of another user (not root) is theirs to change
 */
export function secretFileWarning(
  label: string,
  path: string,
  stat: SecretFileStat,
  ownUid: number | undefined,
): string | undefined {
  const foreign = ownUid !== undefined && stat.uid !== ownUid && stat.uid !== 0;
  if (!foreign && !isRegularFile(stat)) return undefined;
  const readable = (stat.mode & 0o044) !== 0;
  const writable = (stat.mode & 0o022) !== 0;
  if (!readable && !writable && !foreign) return undefined;
  label = sanitizeForTerminal(label);
  const mode = modeWords(stat);
  if (foreign && !isRegularFile(stat)) {
    return `Warning: ${label} is not a file but ${kindWords(stat)} of another user (uid ${stat.uid}), who chooses what is read from it: keep a secret in a file of your own (chmod 600).`;
  }
  if (foreign) {
    return `Warning: ${label} belongs to another user (uid ${stat.uid}, ${mode}), who can change it: keep a secret in a file of your own (chmod 600).`;
  }
  const can = readable && writable ? "read and changed" : readable ? "read" : "changed";
  const exposed = `Warning: ${label} can be ${can} by other users of this machine (${mode})`;
  // Root's file, read by another user: only root may chmod it (EPERM), and made 0600 it could
  // not be read at all.
  if (ownUid !== undefined && stat.uid !== ownUid) {
    return `${exposed}, and it is root's, so only root can chmod it: keep a secret in a file of your own (chmod 600).`;
  }
  return `${exposed}: chmod 600 ${sanitizeForTerminal(shellQuoted(path))}`;
}

/**
 * Why a secret file that is not a regular file of ours, root's or the system's is not read, or
 * undefined: another user's named pipe (`mkfifo /tmp/code` where the code file was to be) hands us
 * whatever they write into it, and opening it waits for that user to open it for writing: the
 * whole process stood still there, Ctrl-C too (session 29), as session 23's opens did. A device or
 * socket of theirs is no better. Pure: the caller stats what it opened without waiting.
 */
export function foreignSpecialFileProblem(
  label: string,
  stat: SecretFileStat,
  ownUid: number | undefined,
): string | undefined {
  const foreign = ownUid !== undefined && stat.uid !== ownUid && stat.uid !== 0;
  if (!foreign || isRegularFile(stat)) return undefined;
  return `${sanitizeForTerminal(label)} is not a file but ${kindWords(stat)} of another user (uid ${stat.uid}), who chooses what is read from it (and whether anything ever is): not read; keep the code in a file of your own (chmod 600)`;
}

/**
 * The warning for a listener's code printed into a regular file other users can read
 * (`parley receive --json > recv.jsonl`, as scripts do): one of them could dial with it before
 * the peer does. Undefined for a private file, a pipe or a terminal.
 */
export function codeOutputWarning(stat: SecretFileStat | undefined): string | undefined {
  if (stat === undefined || !isRegularFile(stat) || (stat.mode & 0o044) === 0) return undefined;
  return `Warning: the code goes to a file other users of this machine can read (${modeWords(stat)}): one of them could dial with it before your peer does; make the file private first (umask 077).`;
}

/** A regular file (not a pipe, a terminal or a folder): one that chmod can make private. */
function isRegularFile(stat: SecretFileStat): boolean {
  return (stat.mode & S_IFMT) === S_IFREG;
}

/** What a file that is not a regular one is, in the warning's words ("a named pipe"). */
function kindWords(stat: SecretFileStat): string {
  switch (stat.mode & S_IFMT) {
    case S_IFIFO:
      return "a named pipe";
    case S_IFCHR:
    case S_IFBLK:
      return "a device";
    case S_IFDIR:
      return "a folder";
    case S_IFSOCK:
      return "a socket";
    default:
      return "a special file";
  }
}

/** The permission bits as the line says them: "mode 0644". */
function modeWords(stat: SecretFileStat): string {
  return `mode ${(stat.mode & 0o777).toString(8).padStart(4, "0")}`;
}

/** `path` as a shell word: bare when it is plain, else in single quotes. */
function shellQuoted(path: string): string {
  return /^[\w./~+-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
