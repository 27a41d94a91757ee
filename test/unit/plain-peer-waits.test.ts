/**
 * PlainPeer's waits on a plain wormhole peer are bounded in all, not per message: a peer that
 * never offers (or never confirms a text) but says something else every few seconds (its
 * transit hints again) must still be given up on once the wait's time is out.
 */

import { expect, test } from "bun:test";
import { encodeTransit } from "../../src/protocol/index.ts";
import { MAX_WAITED_MESSAGES, PlainPeer, PlainPeerError } from "../../src/session/plain-peer.ts";
import { MAX_UNREAD_MESSAGES, type Wormhole } from "../../src/session/wormhole.ts";

/** A mailbox whose peer sends its hints every `everyMs`, and nothing else. */
function chattyWormhole(everyMs: number): Wormhole {
  return {
    connected: true,
    side: "0000000000000001",
    onConnectedChange: () => () => {},
    nextMessage: () => new Promise((resolve) => setTimeout(() => resolve(encodeTransit([], [])), everyMs)),
    send() {},
    close: async () => {},
  } as unknown as Wormhole;
}

/** How `promise` ends within `ms`: its rejection's code, "resolved", or "still waiting". */
async function within(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("still waiting"), ms);
  });
  const ended = promise.then(
    () => "resolved",
    (err: unknown) => (err instanceof PlainPeerError ? err.code : String(err)),
  );
  try {
    return await Promise.race([ended, late]);
  } finally {
    clearTimeout(timer);
  }
}

test("no offer within the wait, though the peer sends its hints every 50 ms: E_NO_OFFER", async () => {
  const peer = new PlainPeer(chattyWormhole(50), new Uint8Array(32), { timeoutMs: 300, relayDelayMs: 0 });
  // Per message, each of the hints restarted the 300 ms: still waiting after 2 s.
  expect(await within(peer.receiveOffer(), 2_000)).toBe("E_NO_OFFER");
});

test("no message_ack within the wait, though the peer sends its hints every 50 ms: E_NO_ACK", async () => {
  const peer = new PlainPeer(chattyWormhole(50), new Uint8Array(32), {
    timeoutMs: 30_000,
    textAckMs: 300,
    relayDelayMs: 0,
  });
  expect(await within(peer.offerText("are you there?"), 2_000)).toBe("E_NO_ACK");
});

test("a wait with no deadline (the chat's for an offer) ends once the peer has sent MAX_WAITED_MESSAGES and no offer", async () => {
  const peer = new PlainPeer(chattyWormhole(0), new Uint8Array(32), { timeoutMs: 30_000, relayDelayMs: 0 });
  // Before (session 30): each message grew the wait (a seen phase, a reaction on its end), for ever.
  expect(await within(peer.receiveOffer({ forever: true }), 2_000)).toBe("E_PEER_PROTOCOL");
});

test("a burst that ends the wait fits in the mailbox's inbox, so the wait's bound is the one the peer meets", () => {
  // At 64 each, a burst of 65 sent before the chat read one tripped the inbox's bound first (its
  // own words, exit 2) in a loaded suite run.
  expect(MAX_WAITED_MESSAGES + 1).toBeLessThan(MAX_UNREAD_MESSAGES);
});

test("so does a file's wait for its answer (no deadline: its receiver may be asking its user)", async () => {
  const options = { timeoutMs: 30_000, relayDelayMs: 0, noListen: true };
  const peer = new PlainPeer(chattyWormhole(0), new Uint8Array(32), options);
  expect(await within(peer.offerFile({ kind: "file", name: "a.bin", size: 1 }), 2_000)).toBe("E_PEER_PROTOCOL");
});
