/**
 * Test helper: the plain wormhole client's side of an exchange, played in the test's own
 * process with Parley's pure modules (mailbox client, file-transfer messages, transit, SecretBox
 * records), so a test can make it misbehave in ways the real client never does. Everything it
 * opens is closed by `closePeerKit()` (call it in afterEach).
 */

import { spake2Start } from "../src/crypto/spake2.ts";
import { transitRecordKeys, wormholeTransitKey } from "../src/crypto/transit-records.ts";
import { transitSecrets } from "../src/crypto/wormhole-keys.ts";
import { type Connection, connectTransit } from "../src/net/index.ts";
import { type PlainMessage, parsePlainMessage, type WireHints } from "../src/protocol/index.ts";
import { Wormhole } from "../src/session/wormhole.ts";
import type { WormholePair } from "./wormhole-servers.ts";

const wormholes: Wormhole[] = [];
const connections: Connection[] = [];

/** Closes every mailbox and transit connection the kit opened. */
export async function closePeerKit(): Promise<void> {
  for (const c of connections.splice(0)) c.destroy();
  await Promise.all(wormholes.splice(0).map((w) => w.close("happy")));
}

/** A plain wormhole client joining `code`: no Parley greeting in its versions. */
export async function joinCode(servers: WormholePair, code: string): Promise<{ w: Wormhole; key: Uint8Array }> {
  const w = await Wormhole.open(servers.mailboxUrl, { app_versions: {} }, code);
  wormholes.push(w);
  const { key } = await w.verified.promise;
  return { w, key };
}

/**
 * A joiner of `code` that adds its key exchange message for it and dies before its version: a raw
 * WebSocket on the mailbox, closed once a message came back (ours, or the code's maker's PAKE).
 * `pakeV1`: the message's pake_v1 instead (a third party who took the code's number, and sends
 * one that is no key exchange message at all).
 */
export async function joinAndDie(mailboxUrl: string, code: string, pakeV1?: string): Promise<void> {
  const ws = new WebSocket(mailboxUrl);
  const got: Array<Record<string, unknown>> = [];
  ws.addEventListener("message", (e) => got.push(JSON.parse(String(e.data)) as Record<string, unknown>));
  await new Promise((r) => ws.addEventListener("open", r));
  const next = async (type: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const hit = got.find((m) => m.type === type);
      if (hit) return hit;
      await Bun.sleep(10);
    }
  };
  const send = (m: Record<string, unknown>) => ws.send(JSON.stringify(m));
  const appid = "lothar.com/wormhole/text-or-file-xfer";
  send({ type: "bind", appid, side: "00000000000000bb" });
  send({ type: "claim", nameplate: code.split("-")[0] });
  send({ type: "open", mailbox: (await next("claimed")).mailbox });
  const message = spake2Start(new TextEncoder().encode(code), new TextEncoder().encode(appid)).message;
  const pake = Buffer.from(JSON.stringify({ pake_v1: pakeV1 ?? Buffer.from(message).toString("hex") })).toString("hex");
  send({ type: "add", phase: "pake", body: pake });
  await next("message");
  ws.close();
}

/** The peer's messages until one carries `key`; the last transit hints seen on the way. */
export async function untilMessage(
  w: Wormhole,
  key: keyof PlainMessage,
): Promise<{ message: PlainMessage; hints: WireHints }> {
  let hints: WireHints = { direct: [], relays: [] };
  for (;;) {
    const message = parsePlainMessage(await w.nextMessage());
    if (message.transit) hints = message.transit;
    if (message[key] !== undefined) return { message, hints };
  }
}

/**
 * The peer's direct hints, each checked to be at 127.0.0.1: the run sets PARLEY_HINT_ADDRESSES
 * (test/run-hooks.ts), so a hint elsewhere (this machine's eth0, 192.0.2.2 here) means Parley did
 * not keep to it and the test's connection would leave loopback.
 */
function onLoopback(direct: WireHints["direct"]): WireHints["direct"] {
  const elsewhere = direct.filter((h) => h.host !== "127.0.0.1");
  if (elsewhere.length > 0)
    throw new Error(`Parley's direct hints name ${JSON.stringify(elsewhere)}, not 127.0.0.1 alone`);
  return direct;
}

/**
 * Our transit connection as `role`, to the peer's direct hints (at 127.0.0.1: onLoopback) and the
 * servers' relay, with the record keys.
 */
export async function transitAs(
  servers: WormholePair,
  w: Wormhole,
  key: Uint8Array,
  role: "sender" | "receiver",
  hints: WireHints,
) {
  const s = transitSecrets(key, w.side);
  const result = await connectTransit({
    role,
    send: role === "sender" ? s.senderHandshake : s.receiverHandshake,
    expect: role === "sender" ? s.receiverHandshake : s.senderHandshake,
    relayHandshake: s.relayHandshake,
    direct: onLoopback(hints.direct),
    relays: [{ host: "127.0.0.1", port: servers.relay.port }, ...hints.relays],
    relayDelayMs: 2000,
    timeoutMs: 20_000,
  });
  connections.push(result.connection);
  return { conn: result.connection, keys: transitRecordKeys(wormholeTransitKey(key), role) };
}
