/**
 * Parley against a crafted plain wormhole peer, played in this process with the pure modules
 * (the mailbox client, the file-transfer messages, transit, SecretBox records) so that it can
 * misbehave in ways the real client never does:
 *
 * - a record that does not open (a flipped bit), a record out of order (one skipped): `parley
 *   receive` exits 4, and nothing is left under the final name (nor a `.part`);
 * - an ack whose SHA-256 is not the file's: `parley send` exits 4;
 * - more bytes than offered: exit 4.
 */

import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  TransitRecordOpener,
  TransitRecordSealer,
  transitRecordKeys,
  wormholeTransitKey,
} from "../../src/crypto/transit-records.ts";
import { transitSecrets } from "../../src/crypto/wormhole-keys.ts";
import { type Connection, connectTransit } from "../../src/net/index.ts";
import {
  encodeAnswer,
  encodeOffer,
  encodeTransit,
  encodeTransitAck,
  type PlainMessage,
  parsePlainMessage,
  type WireHints,
} from "../../src/protocol/index.ts";
import { Wormhole } from "../../src/session/wormhole.ts";
import { WormholeServers, wormholeServersAvailable } from "../wormhole-servers.ts";
import { type Cli, cleanup, makeTempDir, startCli } from "./helpers.ts";

const available = wormholeServersAvailable("crafted wormhole peer tests (test/e2e/wormhole-crafted.test.ts)");
let servers: WormholeServers;
beforeAll(async () => {
  if (available) servers = await WormholeServers.start();
}, 90_000);
afterAll(async () => {
  await servers?.stop();
}, 90_000);

const open: Wormhole[] = [];
const conns: Connection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.destroy();
  await Promise.all(open.splice(0).map((w) => w.close("happy")));
  await cleanup();
});

const mailbox = (): string[] => ["--relay-url", servers.mailboxUrl, "--transit-helper", servers.transitHelper];
const relay = () => ({ host: "127.0.0.1", port: servers.relay.port });

type JsonEvent = Record<string, unknown> & { type: string };
const events = (cli: Cli): JsonEvent[] =>
  cli.lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as JsonEvent);

async function parleyCode(cli: Cli): Promise<string> {
  const { line } = await cli.waitForLine(/"type":"code"/, 30_000);
  return (JSON.parse(line) as { code: string }).code;
}

/** A plain wormhole client's side of the mailbox: joins `code`, no Parley greeting. */
async function joinCode(code: string): Promise<{ w: Wormhole; key: Uint8Array }> {
  const w = await Wormhole.open(servers.mailboxUrl, { app_versions: {} }, code);
  open.push(w);
  const { key } = await w.verified.promise;
  return { w, key };
}

/** The peer's messages until one has `key` (its hints kept). */
async function until(w: Wormhole, key: keyof PlainMessage, hints: { value: WireHints }): Promise<PlainMessage> {
  for (;;) {
    const m = parsePlainMessage(await w.nextMessage());
    if (m.transit) hints.value = m.transit;
    if (m[key] !== undefined) return m;
  }
}

/** Our transit connection as `role`, to the peer's hints and the relay. */
async function transit(w: Wormhole, key: Uint8Array, role: "sender" | "receiver", hints: WireHints) {
  const s = transitSecrets(key, w.side);
  const result = await connectTransit({
    role,
    send: role === "sender" ? s.senderHandshake : s.receiverHandshake,
    expect: role === "sender" ? s.receiverHandshake : s.senderHandshake,
    relayHandshake: s.relayHandshake,
    direct: hints.direct,
    relays: [relay(), ...hints.relays],
    relayDelayMs: 2000,
    timeoutMs: 20_000,
  });
  conns.push(result.connection);
  return { conn: result.connection, keys: transitRecordKeys(wormholeTransitKey(key), role) };
}

/**
 * Plays `wormhole send` of a `size`-byte file into `parley receive`, then `misbehave`s on the
 * transit connection; resolves with the receiver's exit code and what is in its folder.
 */
async function craftedSender(
  size: number,
  misbehave: (conn: Connection, sealer: TransitRecordSealer) => void,
): Promise<{ exit: number; files: string[]; cli: Cli }> {
  const dir = makeTempDir();
  const cli = startCli("parley-receive", ["receive", ...mailbox(), "--dir", dir, "--json"]);
  const { w, key } = await joinCode(await parleyCode(cli));
  w.send(encodeTransit([], [relay()]));
  w.send(encodeOffer({ kind: "file", name: "victim.bin", size }));
  const hints = { value: { direct: [], relays: [] } as WireHints };
  const answer = await until(w, "answer", hints);
  expect(answer.answer).toEqual({ kind: "file_ack", ok: true });
  const { conn, keys } = await transit(w, key, "sender", hints.value);
  conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
  misbehave(conn, new TransitRecordSealer(keys.sendKey));
  const exit = await cli.exitCode(30_000);
  return { exit, files: readdirSync(dir), cli };
}

describe.skipIf(!available)("a crafted wormhole sender", () => {
  test("a record that does not open: exit 4, nothing under the final name, no .part", async () => {
    const { exit, files, cli } = await craftedSender(100_000, (conn, sealer) => {
      conn.write(Uint8Array.from(sealer.seal(randomBytes(40_000))));
      const bad = Uint8Array.from(sealer.seal(randomBytes(40_000)));
      bad[100] = (bad[100] as number) ^ 0x01;
      conn.write(bad);
    });
    expect(exit).toBe(4);
    expect(files).toEqual([]);
    expect(events(cli).find((e) => e.type === "error")).toMatchObject({ code: "E_AUTH_FAILED", name: "victim.bin" });
  }, 60_000);

  test("a record out of order (one skipped): exit 4, nothing stored", async () => {
    const { exit, files, cli } = await craftedSender(100_000, (conn, sealer) => {
      sealer.seal(randomBytes(10));
      conn.write(Uint8Array.from(sealer.seal(randomBytes(10))));
    });
    expect(exit).toBe(4);
    expect(files).toEqual([]);
    expect(events(cli).find((e) => e.type === "error")?.code).toBe("E_BAD_NONCE");
  }, 60_000);

  test("more bytes than offered: exit 4, nothing stored", async () => {
    const { exit, files, cli } = await craftedSender(1000, (conn, sealer) => {
      conn.write(Uint8Array.from(sealer.seal(randomBytes(1001))));
    });
    expect(exit).toBe(4);
    expect(files).toEqual([]);
    expect(events(cli).find((e) => e.type === "error")?.code).toBe("E_SIZE_MISMATCH");
  }, 60_000);
});

describe.skipIf(!available)("a crafted wormhole receiver", () => {
  test("an ack with a wrong SHA-256: parley send exits 4", async () => {
    const src = join(makeTempDir(), "sent.bin");
    writeFileSync(src, randomBytes(200_000));
    const cli = startCli("parley-send", ["send", src, ...mailbox(), "--json"]);
    const { w, key } = await joinCode(await parleyCode(cli));
    const hints = { value: { direct: [], relays: [] } as WireHints };
    const offer = await until(w, "offer", hints);
    expect(offer.offer).toEqual({ kind: "file", name: "sent.bin", size: 200_000 });
    w.send(encodeTransit([], [relay()]));
    w.send(encodeAnswer("file_ack"));
    const { conn, keys } = await transit(w, key, "receiver", hints.value);
    const opener = new TransitRecordOpener(keys.receiveKey);
    const sealer = new TransitRecordSealer(keys.sendKey);
    let got = 0;
    conn.setEvents({
      onData: (chunk) =>
        opener.push(chunk, (r) => {
          got += r.length;
          if (got === 200_000) conn.write(Uint8Array.from(sealer.seal(encodeTransitAck("00".repeat(32)))));
        }),
      onDrain() {},
      onClose() {},
    });
    expect(await cli.exitCode(30_000)).toBe(4);
    expect(got).toBe(200_000);
    expect(events(cli).find((e) => e.type === "error")).toMatchObject({ code: "E_BAD_CHECKSUM", name: "sent.bin" });
  }, 60_000);
});
