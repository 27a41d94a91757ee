/**
 * The start of magic-wormhole's own test servers (test/wormhole-servers.ts) when their port is
 * not to be had. twistd does not exit when it cannot listen: it logs CannotListenError and idles.
 * A start that chose a free port first and waited for the port to accept then took whatever had
 * taken the port in between for the server (or waited 60 s with no reason given, when that was
 * not a listener), and the ~11 files sharing the pair failed each its own way.
 */

import { expect, test } from "bun:test";
import type { TCPSocketListener } from "bun";
import { WormholeServer, wormholeServersAvailable } from "../wormhole-servers.ts";

const available = wormholeServersAvailable(
  "the wormhole servers' start tests (test/integration/wormhole-servers-start.test.ts)",
);

/** A listener of the test's own on 127.0.0.1 that answers anything with "not the relay\n". */
function holdPort(): TCPSocketListener {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.end("not the relay\n");
      },
    },
  });
}

/** The first line the server on `port` answers to `line` (127.0.0.1). */
async function answerTo(port: number, line: string): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  let got = "";
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open(socket) {
        socket.write(line);
      },
      data(_socket, bytes) {
        got += bytes.toString();
        if (got.includes("\n")) resolve(got);
      },
      close() {
        resolve(got);
      },
      connectError(_socket, err) {
        reject(err);
      },
    },
  });
  return promise;
}

test.skipIf(!available)(
  "the port handed out is taken before twistd binds it: start() still gives the relay it started",
  async () => {
    const holder = holdPort();
    // Another process wins the race: the next port the OS hands out to this process (as a
    // throw-away port-0 listener, the way a port is picked before starting a server) is the one
    // the holder already has. Every other listen goes through.
    const listen = Bun.listen;
    let raced = false;
    Bun.listen = ((options: Parameters<typeof Bun.listen>[0]) => {
      const { hostname, port } = options as { hostname?: string; port?: number };
      const freePortListen = hostname === "127.0.0.1" && port === 0;
      if (raced || !freePortListen) return listen(options);
      raced = true;
      return { port: holder.port, stop() {} };
    }) as typeof Bun.listen;
    let relay: WormholeServer | undefined;
    try {
      relay = await WormholeServer.start("transitrelay");
    } finally {
      Bun.listen = listen;
    }
    try {
      // The relay answers a line that is no handshake so (magic-wormhole-transit-relay 0.2.1).
      expect(await answerTo(relay.port, "hello\n"), `port ${relay.port}, held ${holder.port}`).toBe("bad handshake\n");
    } finally {
      await relay.stop();
      holder.stop(true);
    }
  },
  30_000,
);

test.skipIf(!available)(
  "a port it cannot have: start() fails within seconds, in one line naming the command, the port and twistd's reason, and leaves no process",
  async () => {
    const holder = holdPort();
    const endpoint = `--port=tcp:${holder.port}:interface=127.0.0.1`;
    const started = performance.now();
    let error: unknown;
    try {
      const server = await WormholeServer.start("transitrelay", "127.0.0.1", holder.port);
      await server.stop(); // never expected: the port is held
    } catch (err) {
      error = err;
    } finally {
      holder.stop(true);
    }
    const ms = performance.now() - started;
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toBe(
      `twistd3 transitrelay ${endpoint} cannot listen on 127.0.0.1:${holder.port}: [Errno 98] Address already in use.`,
    );
    // Said at once, not after the start's deadline (45 s; its wait for the port was 60 s before).
    expect(ms, message).toBeLessThan(20_000);
    const left = Bun.spawnSync(["pgrep", "-f", `tcp:${holder.port}:interface=127.0.0.1`]);
    expect(left.exitCode, `still running: ${left.stdout.toString()}`).toBe(1);
  },
  30_000,
);
