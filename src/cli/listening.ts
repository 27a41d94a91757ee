/** Where a listener can be reached: the addresses to show for a wildcard host. */

import { networkInterfaces } from "node:os";
import { formatAddress } from "../net/index.ts";

/** Hosts that mean "every interface". */
export const WILDCARD_HOSTS: ReadonlySet<string> = new Set(["0.0.0.0", "::", "[::]"]);

/** "addr:port" for each local address a peer on another machine could use (IPv4 only for 0.0.0.0). */
export function reachableAddresses(host: string, port: number): string[] {
  const v6 = host.includes(":");
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && (v6 || a.family === "IPv4"))
    .map((a) => formatAddress((a as { address: string }).address, port));
}
