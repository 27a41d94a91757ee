/** Addresses as the listener counts them: the host of `host:port`, IPv6 bracketed or not. */

import { expect, test } from "bun:test";
import { formatAddress, hostOfAddress } from "../../src/net/index.ts";

test.each([
  ["127.0.0.2", 40123],
  ["::1", 40123],
  ["fe80::1%eth0", 1],
  ["192.0.2.7", 65535],
])("hostOfAddress undoes formatAddress(%s, %i)", (host, port) => {
  expect(hostOfAddress(formatAddress(host, port))).toBe(host);
});

test("an address without a port is a host already", () => {
  expect(hostOfAddress("198.51.100.4")).toBe("198.51.100.4");
  expect(hostOfAddress("::1")).toBe("::1");
});
