/** Where a listener can be reached: the addresses to show for a wildcard host. */

import { formatAddress } from "../net/endpoints.ts";

/** Hosts that mean "every interface". */
export const WILDCARD_HOSTS: ReadonlySet<string> = new Set(["0.0.0.0", "::", "[::]"]);

/** "addr:port" for each local address a peer on another machine could use (IPv4 only for 0.0.0.0). */
export function reachableAddresses(host: string, port: number): string[] {
  const v6 = host.includes(":");
  // node:os only for a wildcard host: a loopback listener's start-up does without it.
  const { networkInterfaces } = require("node:os") as typeof import("node:os");
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && (v6 || a.family === "IPv4"))
    .map((a) => formatAddress((a as { address: string }).address, port));
}

/** The addresses to show a peer: those of every interface for a wildcard host, else none. */
export function listenerReach(host: string, port: number): string[] {
  return WILDCARD_HOSTS.has(host) ? reachableAddresses(host, port) : [];
}

/** Where a bare port is dialed: loopback for a wildcard listener, else the listener's host. */
export function dialHostFor(host: string): string {
  return WILDCARD_HOSTS.has(host) ? "127.0.0.1" : host;
}
