/**
 * Our own dials under way, as the rendezvous' pick waits on them (rendezvous.ts, steps 2-3): a
 * leader waits for a dial of its own in progress before it picks, but at most DIAL_WAIT_MS (that
 * dial may go somewhere else entirely: a wrong port, a silent host); and an unverified leader's
 * READY is held while a dial of ours with the code is under way (candidate-choice.ts holdsReady).
 */

import type { Clock, TimerHandle } from "./clock.ts";
import { DIAL_WAIT_MS } from "./limits.ts";

export class OwnDials {
  /** Dials started whose handshake has not finished yet; and those of them with the code. */
  private inProgress = 0;
  private verified = 0;
  /** The leader's wait for them (waitThen), until it picks or a session starts. */
  private waitTimer: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {}

  /** Dials with the code in progress. */
  get verifiedInProgress(): number {
    return this.verified;
  }

  /**
   * A dial starts (`verified`: with the code).
   * @returns its end, to call once its handshake is through or failed (again: nothing more)
   */
  started(verified: boolean): () => void {
    this.inProgress++;
    if (verified) this.verified++;
    let counted = true;
    return () => {
      if (!counted) return;
      counted = false;
      this.inProgress--;
      if (verified) this.verified--;
    };
  }

  /**
   * While a dial is in progress, the pick waits: `pick` runs DIAL_WAIT_MS after the first wait
   * (once; later waits join it). @returns true when the pick must wait
   */
  waitThen(pick: () => void): boolean {
    if (this.inProgress === 0) return false;
    this.waitTimer ??= this.clock.setTimeout(() => {
      this.waitTimer = undefined;
      pick();
    }, DIAL_WAIT_MS);
    return true;
  }

  /** The wait is over: the leader picks, or the session starts (on the peer's READY too). */
  stopWaiting(): void {
    this.clock.clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
  }
}
