/**
 * Issue 11 session defects, over real loopback sockets: each test failed on the main branch
 * before its fix (the item number is in the test's name).
 */

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { MAX_REASON_CHARS } from "../../src/protocol/index.ts";
import { TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function pair(
  aOptions: ConstructorParameters<typeof TestPeer>[2] = {},
  bOptions: ConstructorParameters<typeof TestPeer>[2] = {},
): Promise<[TestPeer, TestPeer]> {
  const a = new TestPeer("alice", "sha256", aOptions);
  const b = new TestPeer("bob", "sha256", bOptions);
  peers.push(a, b);
  await a.dialTo(b);
  await Promise.all([a.waitForSession(), b.waitForSession()]);
  return [a, b];
}

test("11.15: a decline whose reason is longer than the wire's limit does not end the connection", async () => {
  const long = `not wanted here: ${"/a-rather-long-folder-name".repeat(20)}`;
  expect(long.length).toBeGreaterThan(MAX_REASON_CHARS);
  const [a, b] = await pair({}, { session: { decideOffer: () => long } });
  const src = join(a.dir, "one.bin");
  writeRandomFile(src, 1000);
  a.session?.sendFile(src);
  await a.waitFor("failed");
  a.session?.sendChat("still connected?");
  await b.waitFor("chat", (e) => e.text === "still connected?");
  expect(a.events.some((e) => e.type === "lost")).toBe(false);
  expect(b.events.some((e) => e.type === "lost")).toBe(false);
});
