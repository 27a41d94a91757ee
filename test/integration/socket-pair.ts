/**
 * Test helper: two ends of one real TCP connection on 127.0.0.1 (a listener on an OS-assigned
 * port, dialed once); the listener's stop and both ends' destruction go onto `cleanups`.
 */

import { dial, listen, type SocketConnection } from "../../src/net/index.ts";

/** @returns [the dialed end, the accepted end] */
export async function socketPair(cleanups: Array<() => void>): Promise<[SocketConnection, SocketConnection]> {
  let accepted: (c: SocketConnection) => void = () => {};
  const acceptedConn = new Promise<SocketConnection>((resolve) => {
    accepted = resolve;
  });
  const listener = listen("127.0.0.1", 0, (c) => accepted(c));
  cleanups.push(() => listener.stop());
  const dialed = await dial("127.0.0.1", listener.port);
  const other = await acceptedConn;
  cleanups.push(() => {
    dialed.destroy();
    other.destroy();
  });
  return [dialed, other];
}
