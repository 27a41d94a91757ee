/**
 * The OS's words for a failed file call ("no space left on device"), for the CLI's error paths
 * that run before the transfer layer is loaded (--code-file, --dir). transfer/errors.ts holds
 * the words; it is required at the first error, so that the chat's start-up does not load it.
 */

/** transfer/errors.ts osReason, loaded when first needed. */
export function osWords(err: unknown): string {
  return (require("../transfer/errors.ts") as typeof import("../transfer/errors.ts")).osReason(err);
}
