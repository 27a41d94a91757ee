/**
 * The peer of stopped-peer.test.ts, in a process of its own so the test can stop it (SIGSTOP).
 * `bun stopped-peer-child.ts PORT MODE` dials 127.0.0.1:PORT, prints "ready", and answers the
 * line OFFER with ACCEPT as a session answers an offer. On the close it prints one JSON line:
 * - MODE "raw" (a Bun socket): `{ lines, wrote }`, `wrote` the result of that answer's write
 *   (-1: the kernel refused it, the peer had reset the connection);
 * - MODE "parley" (src/net's SocketConnection): `{ lines }`, each line handled as a frame is
 *   (FrameChannel stops at a closed connection), so a line lost to the close is missing;
 * - MODE "sending" (a SocketConnection too): writes 64 KiB pieces without end, as a file's
 *   sender does (whenever its queue empties, and a turn after the kernel took them all), stops
 *   itself (SIGSTOP) the first time the kernel is full (its queue waits for a drain), and prints
 *   `{ lines }` of what it read, as "parley" does.
 */

import { dial } from "../../src/net/index.ts";

const port = Number(process.argv[2]);
const lines: string[] = [];
let wrote: number | undefined;
/** MODE "sending"'s pump, started once "ready" is out (console.log to a pipe writes at once). */
let startSending: (() => void) | undefined;

function split(chunk: Uint8Array): string[] {
  return new TextDecoder().decode(chunk).split("\n").filter(Boolean);
}

if (process.argv[3] === "raw") {
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(socket, chunk) {
        for (const line of split(chunk)) {
          lines.push(line);
          if (line === "OFFER") wrote = socket.write("ACCEPT\n");
        }
      },
      close() {
        console.log(JSON.stringify({ lines, wrote }));
        process.exit(0);
      },
    },
  });
} else if (process.argv[3] === "sending") {
  const conn = await dial("127.0.0.1", port);
  let text = "";
  const piece = new Uint8Array(64 * 1024);
  let stopped = false;
  const pump = (): void => {
    for (let i = 0; i < 64 && conn.queuedBytes === 0 && !conn.closed; i++) conn.write(piece);
    if (conn.queuedBytes === 0 && !conn.closed) setTimeout(pump, 0);
    else if (!stopped) {
      // Backed up: resumed, the drain comes first, with what the peer sent meanwhile behind it.
      stopped = true;
      process.kill(process.pid, "SIGSTOP");
    }
  };
  conn.setEvents({
    onData(chunk) {
      if (!conn.closed) text += new TextDecoder().decode(chunk);
    },
    onDrain: pump,
    onClose() {
      console.log(JSON.stringify({ lines: text.split("\n").filter(Boolean) }));
      process.exit(0);
    },
  });
  // Not here: on a loaded host the kernel was full within the first pump, and the child stopped
  // itself before it said "ready", which the test then waited for until its timeout (1 in 5
  // runs of this file, at load 8).
  startSending = pump;
} else {
  const conn = await dial("127.0.0.1", port);
  conn.setEvents({
    onData(chunk) {
      for (const line of split(chunk)) {
        if (conn.closed) return;
        lines.push(line);
        if (line === "OFFER") conn.write(new TextEncoder().encode("ACCEPT\n"));
      }
    },
    onDrain() {},
    onClose() {
      console.log(JSON.stringify({ lines }));
      process.exit(0);
    },
  });
}
console.log("ready");
startSending?.();
