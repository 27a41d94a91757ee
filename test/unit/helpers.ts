/** Small helpers shared by the unit tests. */

import type { Terminal } from "../../src/ui/terminal-interface.ts";

/** The parts back to back in one new Uint8Array (not a Buffer, so equality checks stay exact). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs `fn`, which must throw; returns what it threw. */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw, but nothing was thrown");
}

/** Bytes from hex text; whitespace is ignored (golden vectors are written in groups). */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** A terminal that keeps the lines printed (anything else it is asked does nothing). */
export function recordingTerminal(lines: string[]): Terminal {
  const print = (line: string) => lines.push(line);
  return new Proxy({ print }, { get: (target, key) => (key === "print" ? target.print : () => {}) }) as never;
}
