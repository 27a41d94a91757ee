/**
 * Why an incoming offer is declined before anyone is asked (pure): every offer of a one-shot
 * sender, a checksum this build does not know, too many transfers at once, a session leaving.
 */

import { wireDetail } from "../protocol/messages.ts";
import { isChecksumAlgo } from "../transfer/checksum.ts";
import { type Failure, ownFailure } from "./failure.ts";
import { MAX_INCOMING_TRANSFERS } from "./limits.ts";

/** Set on a session whose every offer is declined with it (a one-shot sender takes no files). */
export interface Decline {
  readonly code: string;
  readonly reason: string;
}

/**
 * @param live - incoming transfers under way now
 * @param open - the session takes new offers (open, not leaving)
 * @returns the Failure to decline with, or undefined
 */
export function offerRefusal(
  algo: string,
  live: number,
  open: boolean,
  refuseAll: Decline | undefined,
): Failure | undefined {
  if (refuseAll) return { reason: refuseAll.reason, code: "E_REJECTED", tell: { code: refuseAll.code } };
  if (!isChecksumAlgo(algo)) {
    const detail = wireDetail(algo);
    const tell = { code: "E_UNSUPPORTED_CHECKSUM", ...(detail ? { detail } : {}) };
    return ownFailure("E_REJECTED", { code: "E_UNSUPPORTED_CHECKSUM", detail: algo, declined: true }, tell);
  }
  if (live >= MAX_INCOMING_TRANSFERS) {
    const tell = { code: "E_TOO_MANY_TRANSFERS", detail: String(MAX_INCOMING_TRANSFERS) };
    return ownFailure("E_REJECTED", { code: "E_TOO_MANY_TRANSFERS", declined: true }, tell);
  }
  if (!open) return ownFailure("E_REJECTED", { code: "E_LEAVING", declined: true }, { code: "E_LEAVING" });
  return undefined;
}
