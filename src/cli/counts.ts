/** Numbers in the CLI's sentences: "1 byte", "2 bytes", "1 entry", and a size in both units. */

import { formatBytes } from "../ui/progress.ts";

/** `n` and the noun, singular for exactly 1: count(1, "entry", "entries") is "1 entry". */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** "512.0 MiB, 536870912 bytes"; under 1 KiB only the count ("1 byte", "900 bytes"). */
export function sizeWords(bytes: number): string {
  return bytes < 1024 ? count(bytes, "byte") : `${formatBytes(bytes)}, ${bytes} bytes`;
}
