/**
 * The Wormhole of wormhole-close.test.ts, in a process of its own so the test can see whether a
 * close leaves anything behind (a process with nothing left to do exits).
 * `bun wormhole-close-child.ts MODE URL`, then the test closes this process's stdin to say "close":
 * - MODE "reconnect": opens a Wormhole at URL (a fake server that answers the first connection
 *   and then welcomes nobody), prints "lost" when that connection is lost, and on stdin's end
 *   calls close() while the connection is being opened again;
 * - MODE "first": meets through the mailbox at URL (where nothing ever answers) with an abort
 *   signal, and on stdin's end aborts, as a run that ends while the mailbox is still being reached.
 * Then it prints "closed" and has nothing more to do. PARLEY_MAILBOX_PAUSE_MS is the retry's longest
 * pause (longestPauseMs), as for the CLI.
 */

import { meetThroughMailbox } from "../../src/session/mailbox-rendezvous.ts";
import { Wormhole } from "../../src/session/wormhole.ts";

const [mode, url] = process.argv.slice(2) as [string, string];
const stdinEnded = new Promise<void>((resolve) => {
  process.stdin.on("end", resolve);
  process.stdin.resume();
});

if (mode === "reconnect") {
  const pause = Number(process.env.PARLEY_MAILBOX_PAUSE_MS);
  const wormhole = await Wormhole.open(url, {}, undefined, undefined, {
    ...(pause > 0 ? { longestPauseMs: pause } : {}),
    listener: (change) => {
      if (!change.connected) console.log("lost");
    },
  });
  await wormhole.code.promise;
  console.log("code");
  await stdinEnded;
  await wormhole.close();
} else {
  const abort = new AbortController();
  const meeting = meetThroughMailbox({ mailboxUrl: url, signal: abort.signal }).catch(() => undefined);
  console.log("opening");
  await stdinEnded;
  abort.abort();
  await meeting;
}
console.log("closed");
