/**
 * The incoming transfer machine's table (incoming.ts has the diagram): what each frame from the
 * peer does to an incoming transfer in each state, which states are live, and the protocol
 * error's words for a frame out of place. Pure data: incoming.ts looks a frame up here, but for
 * a receiving transfer's DATA (every record of a file), which skips the table.
 */

import { ProtocolError } from "../protocol/errors.ts";

export type IncomingState =
  | "deciding"
  | "checking"
  | "resuming"
  | "receiving"
  | "finishing"
  | "done"
  | "declined"
  | "failed"
  | "cancelled";
export type FrameInput = "data" | "start" | "end" | "cancel";
type Action = "write" | "start" | "finish" | "peerCancelled" | "ignore" | "unexpected";

/** What each frame from the peer does to an incoming transfer in each state. */
export const FRAME_ACTIONS: { readonly [S in IncomingState | "unknown"]: { readonly [I in FrameInput]: Action } } = {
  deciding: { data: "unexpected", start: "unexpected", end: "unexpected", cancel: "peerCancelled" },
  checking: { data: "unexpected", start: "unexpected", end: "unexpected", cancel: "peerCancelled" },
  resuming: { data: "unexpected", start: "start", end: "unexpected", cancel: "peerCancelled" },
  receiving: { data: "write", start: "unexpected", end: "finish", cancel: "peerCancelled" },
  // END came while the sink still held bytes back (a full pipe): stored once they are out.
  finishing: { data: "unexpected", start: "unexpected", end: "unexpected", cancel: "peerCancelled" },
  done: { data: "unexpected", start: "unexpected", end: "unexpected", cancel: "ignore" },
  // We ended it and told the peer: what it sent meanwhile crossed our REJECT or CANCEL.
  declined: { data: "ignore", start: "ignore", end: "ignore", cancel: "ignore" },
  failed: { data: "ignore", start: "ignore", end: "ignore", cancel: "ignore" },
  cancelled: { data: "ignore", start: "ignore", end: "ignore", cancel: "ignore" },
  unknown: { data: "unexpected", start: "unexpected", end: "unexpected", cancel: "ignore" },
};

/** Why a frame is out of place, for the protocol error. */
const PHASE: { readonly [S in IncomingState | "unknown"]?: string } = {
  deciding: "before ACCEPT",
  checking: "before START",
  resuming: "before START",
  receiving: "that did not resume",
  finishing: "after END",
  done: "that already ended",
};

export const LIVE_STATES: ReadonlySet<IncomingState> = new Set([
  "deciding",
  "checking",
  "resuming",
  "receiving",
  "finishing",
]);

/** The protocol error for `input` out of place for transfer `id` in `state`. */
export function outOfPlace(id: number, input: FrameInput, state: IncomingState | "unknown"): ProtocolError {
  const phase = input === "start" && (state === "deciding" || state === "checking") ? "before ACCEPT" : PHASE[state];
  const what = phase ? `transfer ${id} ${phase}` : `unknown transfer ${id}`;
  return new ProtocolError("E_UNEXPECTED", `${input.toUpperCase()} for ${what}`);
}
