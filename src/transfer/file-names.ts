/**
 * Names of received files, pure: make a peer's offered name safe to create in the download
 * directory, and spell the alternatives tried when a name is taken.
 */

/** Longest name kept, in UTF-8 bytes (common file system limit, with room for " (999).part"). */
export const MAX_SAFE_NAME_BYTES = 240;

/** What a leading dot becomes: a received name never makes a hidden file (".bash_profile"). */
export const LEADING_DOT_REPLACEMENT = "_";

/**
 * Names that npm and Bun act on when they run in the folder holding them, stored with
 * LEADING_DOT_REPLACEMENT before them as a leading dot is (`_package.json`): a peer's files land
 * where the user runs Parley next (the current folder by default, inside the checkout under
 * `npx bun run chat`), and there a `package.json` made npm's project root (`npx parley` ran its
 * `bin` without asking, `bun run chat` its `chat` script), `node_modules` made npm's project root
 * too, `bunfig.toml` gave `bunx` and `bun test` a preload, and a lockfile chose what the next
 * `npm ci` (`npm-shrinkwrap.json` wins over package-lock.json) or `bun install` installs, and a
 * `tsconfig.json` or `jsconfig.json` mapped every import of Bun's there (`paths`), the entry
 * point's too: the source run of `parley` there ran a file of the peer's (attack32). Compared
 * without case (a case-insensitive disk opens `Package.json` by that name) and without trailing
 * dots or spaces (Linux's vfat and exFAT store `package.json.` as `package.json`).
 */
const TOOL_READ_NAMES = new Set([
  "package.json",
  "node_modules",
  "bunfig.toml",
  "npm-shrinkwrap.json",
  "bun.lock",
  "bun.lockb",
  "tsconfig.json",
  "jsconfig.json",
]);

/**
 * Folder names stored with LEADING_DOT_REPLACEMENT before them when they are what is received (a
 * folder's own name, the top of its tree), not inside it: a folder `bin` received into the home
 * folder, executables inside (a sent file keeps its executable bit), is on the PATH from the next
 * login on (Debian's and Ubuntu's ~/.profile add `$HOME/bin` when it exists), ahead of the
 * system's `node`, `npx`, `sh` (attack32). Inside a folder it is any project's `bin`, kept.
 */
const TOP_FOLDER_NAMES = new Set(["bin"]);

/**
 * Characters a stored name never keeps: controls (C0, DEL, C1), line and paragraph separators,
 * and format characters (Unicode Cf: bidi controls that make "invoice\u202efdp.exe" look like
 * "invoice.pdf", zero-width spaces and joiners, U+FEFF, U+061C, soft hyphens...): invisible or
 * misleading in a listing.
 */
const UNSTORABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

const utf8 = new TextEncoder();

/**
 * A safe base name for `offered`: the last path component only, without control or invisible
 * characters, not "." or "..", not dots only, not starting with a dot (each leading dot becomes
 * LEADING_DOT_REPLACEMENT), not a name npm or Bun act on (TOOL_READ_NAMES: `_package.json`),
 * at most MAX_SAFE_NAME_BYTES. Never empty.
 */
export function sanitizeFileName(offered: string): string {
  const lastComponent = offered.split(/[/\\]/).pop() ?? "";
  let name = lastComponent.replace(UNSTORABLE, "").trim();
  name = name.replace(/^\.+$/, "");
  name = name.replace(/^\.+/, (dots) => LEADING_DOT_REPLACEMENT.repeat(dots.length));
  if (TOOL_READ_NAMES.has(asDiskMayStore(name))) name = LEADING_DOT_REPLACEMENT + name;
  name = shortenKeepingExtension(name, MAX_SAFE_NAME_BYTES);
  return name.length > 0 ? name : "received-file";
}

/**
 * A received folder's own name as stored: sanitizeFileName's, and not a name TOP_FOLDER_NAMES holds
 * (`bin` as `_bin`). Its entries' names are sanitizeFileName's.
 */
export function sanitizeFolderName(offered: string): string {
  const name = sanitizeFileName(offered);
  return TOP_FOLDER_NAMES.has(asDiskMayStore(name)) ? LEADING_DOT_REPLACEMENT + name : name;
}

/**
 * `name` as a disk may store and find it: lower case (case-insensitive disks: macOS's, vfat,
 * exFAT), trailing dots and spaces left out (vfat and exFAT on Linux drop trailing dots).
 */
function asDiskMayStore(name: string): string {
  return name.toLowerCase().replace(/[. ]+$/, "");
}

/**
 * `name` cut to MAX_SAFE_NAME_BYTES as sanitizeFileName cuts it (a short extension kept), and
 * nothing else changed: the name offered to a plain wormhole receiver, which writes `NAME.tmp`
 * first (the Python client 0.12) and crashed on a name of 252-255 bytes (ENAMETOOLONG), leaving
 * our sender waiting for an answer that never came.
 */
export function shortenedName(name: string): string {
  return shortenKeepingExtension(name, MAX_SAFE_NAME_BYTES);
}

/** Longest extension kept whole when a long name is cut ("report ... .pdf" stays a .pdf). */
const MAX_KEPT_EXTENSION_BYTES = 16;

/**
 * `name` cut to at most `maxBytes` of UTF-8; a short extension (the part from the last dot,
 * not a leading dot) survives the cut, so a long name keeps its type.
 */
function shortenKeepingExtension(name: string, maxBytes: number): string {
  const whole = truncateUtf8(name, maxBytes);
  if (whole === name) return name;
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot) : "";
  const extensionBytes = utf8.encode(extension).length;
  if (extension === "" || extensionBytes > MAX_KEPT_EXTENSION_BYTES) return whole;
  return truncateUtf8(name.slice(0, dot), maxBytes - extensionBytes) + extension;
}

/**
 * The n-th name to try for `name`: n = 0 is the name itself, then "name (1).ext", "name (2).ext", ...
 * The extension is the part after the last dot, unless the dot starts the name (".bashrc").
 */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return `${name} (${n})`;
  return `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

/** `text` cut to at most `maxBytes` of UTF-8, never inside a character: one encode, no per-character work. */
export function truncateUtf8(text: string, maxBytes: number): string {
  const buffer = new Uint8Array(maxBytes);
  // encodeInto writes whole characters only, and says how many UTF-16 units it consumed.
  const { read } = utf8.encodeInto(text, buffer);
  return read === text.length ? text : text.slice(0, read);
}
