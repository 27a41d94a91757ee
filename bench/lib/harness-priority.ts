/**
 * The CLI cases' harness plays both users' terminals and keyboards: it types each line into one
 * CLI and reads it from the other's output. In real use each user has a machine, and a terminal
 * emulator waits for no CPU behind the program it shows; here the two CLIs and the harness share
 * the bench's cores, and at the same priority a third of the slow lines of session 9 were the
 * harness reading late (both CLIs' lines late at once while both CLIs worked). So while a CLI
 * transfer runs the harness's threads run at a higher priority than the CLIs (nice -19, which
 * needs root or CAP_SYS_NICE). The CLIs keep theirs: every moment a line waits in them, in
 * their pipes or between them still counts; what is taken out is the harness's own wait for a
 * CPU. Without the permission the harness stays as it is and the report says so. (Session 10
 * measured the harness's lateness a small share either way: bench/README.md, "whose delay".)
 */

import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The harness's nice value while a CLI transfer runs. */
export const HARNESS_NICE = -19;

/** This process's thread ids (Linux); empty where /proc is not there. */
function threadIds(): number[] {
  try {
    return readdirSync("/proc/self/task").map(Number);
  } catch {
    return [];
  }
}

/**
 * Sets every thread of this process to `nice`. @returns a function that puts each back as it
 * was, or undefined (nothing changed) when that is not allowed or not possible here
 */
export function raiseHarnessPriority(nice = HARNESS_NICE): (() => void) | undefined {
  const before = threadIds().map((tid) => [tid, getPriority(tid)] as const);
  if (before.length === 0) return undefined;
  const restore = () => {
    for (const [tid, was] of before) {
      try {
        setPriority(tid, was);
      } catch {
        // the thread ended meanwhile
      }
    }
  };
  try {
    for (const [tid] of before) setPriority(tid, nice);
  } catch {
    restore();
    return undefined;
  }
  return restore;
}
