/**
 * Listening and dialing with Bun.listen / Bun.connect, handing out `SocketConnection`s.
 * TCP_NODELAY is set on every socket: chat lines must not wait for Nagle's algorithm.
 */

import type { Socket, SocketHandler, TCPSocketListener } from "bun";
import type * as Connection from "./connection.ts";
import type { SocketConnection } from "./connection.ts";
import { NetError } from "./errors.ts";

type Handle = { conn?: SocketConnection };

/** connection.ts, loaded when the first socket opens: the chat's start-up (a listener) does without it. */
function connectionClass(): typeof SocketConnection {
  return (require("./connection.ts") as typeof Connection).SocketConnection;
}

/** How long a dial may take before it counts as failed. */
const DIAL_TIMEOUT_MS = 10_000;

function handlers(onOpen: (conn: SocketConnection) => void): SocketHandler<Handle> {
  return {
    open(socket: Socket<Handle>) {
      socket.setNoDelay(true);
      const conn = new (connectionClass())(
        socket as Socket<unknown>,
        formatAddress(socket.remoteAddress, socket.remotePort),
      );
      socket.data = { conn };
      onOpen(conn);
    },
    data(socket, chunk) {
      socket.data.conn?.handleData(chunk);
    },
    drain(socket) {
      socket.data.conn?.handleDrain();
    },
    close(socket, error) {
      socket.data.conn?.handleClose(error);
    },
    error(socket, error) {
      // Bun routes a throw from our own handlers here too: close the socket, do not leak it.
      socket.data.conn?.handleClose(error);
      socket.terminate();
    },
    end(socket) {
      // The peer sent FIN after its last bytes: Parley has no half-open use, so the connection is over.
      socket.data.conn?.handleClose();
      socket.end();
    },
  };
}

export interface Listener {
  readonly hostname: string;
  readonly port: number;
  /** Stops accepting new connections; accepted ones stay open. */
  stop(): void;
}

/**
 * Listens on `hostname:port` (port 0: the OS picks one).
 * @throws NetError E_LISTEN when the address cannot be bound
 */
export function listen(hostname: string, port: number, onAccept: (conn: SocketConnection) => void): Listener {
  let server: TCPSocketListener<Handle>;
  try {
    server = Bun.listen<Handle>({ hostname, port, socket: handlers(onAccept), data: {} });
  } catch (err) {
    // Bun says only "Failed to listen at HOST"; the code says why.
    const code = (err as { code?: string }).code;
    const reason =
      code === "EADDRINUSE"
        ? "the port is already in use"
        : code === "EACCES"
          ? "permission denied (ports below 1024 need privileges)"
          : code === "EADDRNOTAVAIL"
            ? "no such address on this machine"
            : code === undefined
              ? // What Bun says of a host name that does not resolve too, without a code.
                "no such address on this machine (or a host name that does not resolve)"
              : err instanceof Error
                ? err.message
                : String(err);
    throw new NetError("E_LISTEN", `cannot listen on ${formatAddress(hostname, port)}: ${reason}`, { cause: err });
  }
  return {
    hostname: server.hostname,
    port: server.port,
    // Stops accepting; connections already accepted stay open (their owners close them).
    stop: () => server.stop(false),
  };
}

/**
 * Dials `hostname:port`.
 * @throws NetError E_CONNECT_REFUSED when nothing listens there, E_CONNECT otherwise
 */
export async function dial(hostname: string, port: number, timeoutMs = DIAL_TIMEOUT_MS): Promise<SocketConnection> {
  const where = formatAddress(hostname, port);
  let opened: SocketConnection | undefined;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = Bun.connect<Handle>({
    hostname,
    port,
    data: {},
    socket: handlers((conn) => {
      opened = conn;
      if (timedOut) conn.destroy(); // too late: the caller has been told it failed
    }),
  });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      const reason = `no answer within ${timeoutMs / 1000} s`;
      reject(new NetError("E_CONNECT", `cannot connect to ${where}: ${reason}`, undefined, reason));
    }, timeoutMs);
  });
  try {
    await Promise.race([connecting, timeout]);
  } catch (err) {
    if (err instanceof NetError) throw err;
    const code = (err as { code?: string }).code;
    if (code === "ECONNREFUSED")
      throw new NetError("E_CONNECT_REFUSED", `connection refused by ${where}`, { cause: err });
    // getaddrinfo's codes, in words ("getaddrinfo ENOTFOUND host" says nothing to most people).
    const reason =
      code === "ENOTFOUND"
        ? "no such host (the name does not resolve)"
        : code === "EAI_AGAIN"
          ? "the host name could not be resolved now (no answer from DNS)"
          : err instanceof Error
            ? err.message
            : String(err);
    throw new NetError("E_CONNECT", `cannot connect to ${where}: ${reason}`, { cause: err }, reason);
  } finally {
    clearTimeout(timer);
    connecting.catch(() => {}); // a late failure after the timeout has nobody to tell
  }
  if (!opened) throw new NetError("E_CONNECT", `cannot connect to ${where}`);
  return opened;
}

/** "host:port", with brackets around an IPv6 host. */
export function formatAddress(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The host of an address formatAddress made (`[::1]:80` -> `::1`); as it is without a port. */
export function hostOfAddress(address: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(address);
  if (bracketed) return bracketed[1] as string;
  const plain = /^([^:]*):\d+$/.exec(address);
  return plain ? (plain[1] as string) : address;
}
