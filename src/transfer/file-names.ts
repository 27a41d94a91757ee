/**
 * Names of received files, pure: make a peer's offered name safe to create in the download
 * directory, and spell the alternatives tried when a name is taken.
 */

/** Longest name kept, in UTF-8 bytes (common file system limit, with room for " (999).part"). */
export const MAX_SAFE_NAME_BYTES = 240;

const utf8 = new TextEncoder();

/**
 * A safe base name for `offered`: the last path component only, without control characters,
 * not "." or "..", not hidden-dot-only, at most MAX_SAFE_NAME_BYTES. Never empty.
 */
export function sanitizeFileName(offered: string): string {
  const lastComponent = offered.split(/[/\\]/).pop() ?? "";
  // Control characters, and bidi controls that make "invoice\u202efdp.exe" look like "invoice.pdf".
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  let name = lastComponent.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, "").trim();
  if (name === "." || name === "..") name = "";
  name = name.replace(/^\.+$/, "");
  name = truncateUtf8(name, MAX_SAFE_NAME_BYTES);
  return name.length > 0 ? name : "received-file";
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

function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8.encode(text).length <= maxBytes) return text;
  let out = "";
  let bytes = 0;
  for (const ch of text) {
    const n = utf8.encode(ch).length;
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
