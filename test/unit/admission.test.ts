/** Who makes room at a full listener (src/session/admission.ts), decided on plain arrivals. */

import { expect, test } from "bun:test";
import { type Arrival, silentToDrop, spokenToDrop } from "../../src/session/admission.ts";
import { MAX_ACCEPTED_HANDSHAKES, MAX_SILENT_CONNECTIONS, MAX_SILENT_PER_ADDRESS } from "../../src/session/limits.ts";

const arrive = (host: string, spoke = false, guessing = false): Arrival => ({ host, spoke, guessing });

test("silent pool: the oldest silent one of a host at its cap goes, then the oldest of all", () => {
  const own = Array.from({ length: MAX_SILENT_PER_ADDRESS }, () => arrive("10.0.0.1"));
  expect(silentToDrop(own, "10.0.0.1")).toBe(own[0]);
  expect(silentToDrop(own, "10.0.0.2")).toBeUndefined(); // another host still has room
  const many = Array.from({ length: MAX_SILENT_CONNECTIONS }, (_, i) => arrive(`10.0.1.${i}`));
  expect(silentToDrop(many, "10.0.0.9")).toBe(many[0]);
  expect(silentToDrop([arrive("10.0.0.1", true), ...own.slice(1)], "10.0.0.1")).toBeUndefined();
});

test("spoken places: the host holding the most places without a share gives up its oldest", () => {
  const real = arrive("127.0.0.1", true);
  const flood = Array.from({ length: MAX_ACCEPTED_HANDSHAKES }, () => arrive("127.0.0.2", true));
  const all = [real, ...flood];
  expect(spokenToDrop(all, flood.at(-1) as Arrival)).toBe(flood[0]); // never the real peer, older though it is
  expect(spokenToDrop(all.slice(0, MAX_ACCEPTED_HANDSHAKES), real)).toBeUndefined(); // room left
});

test("spoken places: a connection whose share is being tried is never the one to go", () => {
  const guessing = Array.from({ length: MAX_ACCEPTED_HANDSHAKES }, (_, i) => arrive(`10.0.2.${i}`, true, true));
  const newcomer = arrive("10.0.3.1", true);
  expect(spokenToDrop([...guessing, newcomer], newcomer)).toBe(newcomer);
});

test("spoken places: with one place per host, the oldest goes", () => {
  const hosts = Array.from({ length: MAX_ACCEPTED_HANDSHAKES + 1 }, (_, i) => arrive(`10.0.4.${i}`, true));
  expect(spokenToDrop(hosts, hosts.at(-1) as Arrival)).toBe(hosts[0]);
});
