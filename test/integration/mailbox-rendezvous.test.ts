/**
 * Two in-process Parleys meet through a real mailbox server and transit relay on 127.0.0.1:
 * the direct path by default, the relay with --no-listen on both sides (and when the only
 * direct hint goes nowhere), a session with chat and a file both ways on each path; two pairs
 * at once never cross; a relay that is down and no path at all fail with their codes.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeMeetFailure } from "../../src/cli/mailbox-meet.ts";
import { spake2Start } from "../../src/crypto/spake2.ts";
import { TransitError } from "../../src/net/index.ts";
import type { SessionEvents } from "../../src/session/events.ts";
import { WormholeError } from "../../src/session/mailbox-client.ts";
import {
  type MailboxRendezvousOptions,
  meetThroughMailbox,
  type ParleyMeeting,
} from "../../src/session/mailbox-rendezvous.ts";
import type { PlainPeerError } from "../../src/session/plain-peer.ts";
import { Session } from "../../src/session/session.ts";
import { Wormhole } from "../../src/session/wormhole.ts";
import { within } from "../fake-mailbox.ts";
import { joinAndDie } from "../wormhole-peer-kit.ts";
import { freePort, type WormholePair, WormholeServers, wormholeServersAvailable } from "../wormhole-servers.ts";

const available = wormholeServersAvailable("mailbox rendezvous tests (test/integration/mailbox-rendezvous.test.ts)");
let servers: WormholePair;
const cleanups: Array<() => unknown> = [];

beforeAll(async () => {
  if (available) servers = await WormholeServers.shared();
}, 90_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
}, 90_000);

const relayHint = () => ({ host: "127.0.0.1", port: servers.relay.port });

/**
 * A meeting's timeoutMs where a case waits out an offer: it bounds the meeting's trips through
 * the mailbox too (the key exchange, the version after it), which took more than 1 s on a loaded
 * machine with the file's cases at once on one shared mailbox server ("began the key exchange but
 * did not finish it within 1 s" instead of E_NO_OFFER). The cases that wait out the path lower
 * pathTimeoutMs alone.
 */
const OFFER_CASE_MS = 3_000;

/** Our direct hints at 127.0.0.1 alone (PARLEY_HINT_ADDRESSES' option): the tests' connections stay on loopback. */
const LOOPBACK_HINTS = { hintAddresses: ["127.0.0.1"] };

/** Meets: `a` allocates, `b` joins with the code `a` got (both hinting 127.0.0.1 unless told otherwise). */
async function meetPair(
  a: Partial<MailboxRendezvousOptions> = {},
  b: Partial<MailboxRendezvousOptions> = {},
): Promise<[ParleyMeeting, ParleyMeeting]> {
  let gotCode!: (code: string) => void;
  const code = new Promise<string>((r) => (gotCode = r));
  const first = meetThroughMailbox({ mailboxUrl: servers.mailboxUrl, onCode: gotCode, ...LOOPBACK_HINTS, ...a });
  const second = code.then((c) =>
    meetThroughMailbox({ mailboxUrl: servers.mailboxUrl, code: c, ...LOOPBACK_HINTS, ...b }),
  );
  const meetings = (await Promise.all([first, second])) as [ParleyMeeting, ParleyMeeting];
  for (const m of meetings) {
    expect(m.kind).toBe("parley");
    cleanups.push(() => m.release());
  }
  return meetings;
}

interface Peer {
  session: Session;
  chats: string[];
  dir: string;
  done: Promise<void>;
}

function sessionOn(meeting: ParleyMeeting, files = 0): Peer {
  const dir = mkdtempSync(join(tmpdir(), "parley-mbx-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const chats: string[] = [];
  let finished = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const check = () => {
    if (finished >= files && chats.length > 0) resolveDone();
  };
  const events: SessionEvents = {
    chatReceived: (text) => {
      chats.push(text);
      check();
    },
    transferStarted() {},
    transferProgressed() {},
    transferFinished: (done) => {
      if (done.direction === "receive") finished++;
      check();
    },
    transferFailed: (_info, reason) => {
      chats.push(`transfer failed: ${reason}`);
    },
    peerLeft() {},
    connectionLost() {},
    closed() {},
  };
  const session = new Session(meeting.channel, {
    peer: meeting.peer,
    security: meeting.security,
    downloadDir: dir,
    checksum: "xxh3",
    events,
  });
  cleanups.push(() => session.abort("test over"));
  return { session, chats, dir, done };
}

async function talk(a: ParleyMeeting, b: ParleyMeeting): Promise<void> {
  expect(a.security.verification).toBe(b.security.verification);
  const pa = sessionOn(a, 1);
  const pb = sessionOn(b, 1);
  const src = mkdtempSync(join(tmpdir(), "parley-mbx-src-"));
  cleanups.push(() => rmSync(src, { recursive: true, force: true }));
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(join(src, "blob.bin"), bytes);
  pa.session.sendChat("hello from a");
  pb.session.sendChat("hello from b");
  pa.session.sendFile(join(src, "blob.bin"));
  pb.session.sendFile(join(src, "blob.bin"));
  await Promise.all([pa.done, pb.done]);
  expect(pa.chats).toEqual(["hello from b"]);
  expect(pb.chats).toEqual(["hello from a"]);
  expect(readFileSync(join(pa.dir, "blob.bin")).equals(bytes)).toBe(true);
  expect(readFileSync(join(pb.dir, "blob.bin")).equals(bytes)).toBe(true);
}

describe.skipIf(!available)("mailbox rendezvous (real mailbox and relay)", () => {
  test.concurrent("the direct path by default: chat and files both ways", async () => {
    const [a, b] = await meetPair({ transitHelper: relayHint() }, { transitHelper: relayHint() });
    expect([a.path, b.path]).toEqual(["direct", "direct"]);
    expect([a.channel.relayed, b.channel.relayed]).toEqual([false, false]);
    // Each side's end of the connection is on loopback: the dialer's the hint it dialed, the
    // other's the dialer's address. Hints of this machine's every address (an eth0's 192.0.2.2
    // here) took it there.
    expect([a.address, b.address]).toEqual([
      expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    ]);
    await talk(a, b);
  });

  test.concurrent("--no-listen on both sides: through the relay, reported with its address", async () => {
    const [a, b] = await meetPair({ transitHelper: relayHint(), noListen: true }, { noListen: true });
    expect([a.path, b.path]).toEqual(["relay", "relay"]);
    // The session's window and ACK cadence follow (session/limits.ts RELAY_ACK_EVERY_BYTES).
    expect([a.channel.relayed, b.channel.relayed]).toEqual([true, true]);
    expect(a.address).toBe(`127.0.0.1:${servers.relay.port}`);
    expect(b.address).toBe(`127.0.0.1:${servers.relay.port}`);
    await talk(a, b);
  });

  test.concurrent("two pairs at once on one mailbox and relay never cross", async () => {
    const opts = { transitHelper: relayHint(), noListen: true };
    const [[a1, b1], [a2, b2]] = await Promise.all([meetPair(opts, opts), meetPair(opts, opts)]);
    expect(a1.peer.nonce).not.toBe(a2.peer.nonce);
    expect(a1.security.verification).toBe(b1.security.verification);
    expect(a2.security.verification).toBe(b2.security.verification);
    await Promise.all([talk(a1, b1), talk(a2, b2)]);
  });

  test.concurrent("the relay is down and is the only path: relay unreachable", async () => {
    const down = { host: "127.0.0.1", port: freePort() };
    const error = await meetPair({ transitHelper: down, noListen: true }, { noListen: true }).catch((e) => e);
    expect(error).toBeInstanceOf(TransitError);
    expect((error as TransitError).code).toBe("E_RELAY_UNREACHABLE");
  });

  test.concurrent("a relay that takes the connection and never answers, the only path: no path in its time, the relay named", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    cleanups.push(() => silent.stop(true));
    const hint = { host: "127.0.0.1", port: silent.port };
    const opts = { transitHelper: hint, noListen: true, pathTimeoutMs: 1_500 };
    const error = await meetPair(opts, opts).catch((e) => e);
    expect(error).toBeInstanceOf(TransitError);
    expect((error as TransitError).code).toBe("E_NO_PATH");
    // Before: "nothing connected within 1.5 s", and nothing said the relay was the one that stalled.
    expect((error as TransitError).message).toBe(
      `nothing connected within 1.5 s (the transit relay 127.0.0.1:${silent.port} took the connection but never answered)`,
    );
  });

  test.concurrent("a relay that answers garbage, or says ok and passes nothing on, the only path: the line says which", async () => {
    // Before: "no direct address or relay worked" and "nothing connected within 1.5 s", the relay unnamed.
    for (const [answer, words] of [
      ["hello there\n", "answered with bytes that were neither its ok nor the peer's"],
      ["ok\n", "said ok but passed on nothing from the peer"],
    ] as const) {
      const answered = new WeakSet<object>();
      const relay = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          data(socket) {
            if (answered.has(socket)) return; // once: what follows our line is never passed on
            answered.add(socket);
            socket.write(answer);
          },
        },
      });
      cleanups.push(() => relay.stop(true));
      const hint = { host: "127.0.0.1", port: relay.port };
      const opts = { transitHelper: hint, noListen: true, pathTimeoutMs: 1_500 };
      const error = await meetPair(opts, opts).catch((e) => e);
      expect(error).toBeInstanceOf(TransitError);
      expect((error as TransitError).code).toBe("E_NO_PATH");
      expect((error as TransitError).message).toMatch(
        new RegExp(
          `^(no direct address or relay worked|nothing connected within 1\\.5 s) \\(the transit relay 127\\.0\\.0\\.1:${relay.port} ${words}\\)$`,
        ),
      );
    }
  });

  test.concurrent("a plain wormhole sender that gives up after the key exchange (its mailbox closed, no offer): E_NO_OFFER names that it may have failed", async () => {
    let gotCode!: (code: string) => void;
    const code = new Promise<string>((r) => (gotCode = r));
    const meeting = meetThroughMailbox({
      mailboxUrl: servers.mailboxUrl,
      onCode: gotCode,
      timeoutMs: OFFER_CASE_MS,
    });
    const peer = await Wormhole.open(servers.mailboxUrl, { app_versions: {} }, await code);
    await peer.verified.promise;
    const met = await meeting;
    if (met.kind !== "plain") throw new Error(`met a ${met.kind} peer`);
    // As wormhole-william's send does when it fails after the key exchange (its transit relay's
    // name does not resolve): mood errory, nameplate released, no word to us.
    await peer.close("errory");
    const error = await met.peer.receiveOffer().catch((e: unknown) => e);
    await met.peer.close("errory");
    expect((error as PlainPeerError).code).toBe("E_NO_OFFER");
    // Before: "offered nothing (is it waiting to receive too?)", for a sender that had failed.
    expect((error as PlainPeerError).message).toBe(
      "the wormhole peer sent no offer within 3 s: it failed or was stopped on its side (a wormhole client that gives up tells us nothing through the mailbox), or it is waiting to receive too",
    );
  });

  test.concurrent("no relay and nobody listening: no path", async () => {
    const error = await meetPair({ noListen: true }, { noListen: true }).catch((e) => e);
    expect(error).toBeInstanceOf(TransitError);
    expect((error as TransitError).code).toBe("E_NO_PATH");
  });

  test.concurrent("a wrong code: both sides E_WRONG_CODE", async () => {
    let gotCode!: (code: string) => void;
    const code = new Promise<string>((r) => (gotCode = r));
    const a = meetThroughMailbox({ mailboxUrl: servers.mailboxUrl, onCode: gotCode }).catch((e) => e);
    const b = code.then((c) =>
      meetThroughMailbox({ mailboxUrl: servers.mailboxUrl, code: `${c}-extra` }).catch((e) => e),
    );
    for (const e of await Promise.all([a, b])) {
      expect(e).toBeInstanceOf(WormholeError);
      expect((e as WormholeError).code).toBe("E_WRONG_CODE");
    }
  });

  test.concurrent("a peer that joined and died between its key exchange message and its version: the side that made the code gives up, E_PEER_GONE", async () => {
    let gotCode!: (code: string) => void;
    const code = new Promise<string>((r) => (gotCode = r));
    const failed = meetThroughMailbox({ mailboxUrl: servers.mailboxUrl, onCode: gotCode, timeoutMs: 1_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The joiner: claims, opens, adds its PAKE message for the right code, and dies before its version.
    await joinAndDie(servers.mailboxUrl, await code);
    // It waited for ever, its code shown, the mailbox full (a third side is "crowded").
    const error = await within(failed, 8_000, "the side that made the code waited on");
    expect(error).toBeInstanceOf(WormholeError);
    expect((error as WormholeError).code).toBe("E_PEER_GONE");
    expect(describeMeetFailure(error)?.line).toBe(
      "Error: the peer left: it began the key exchange but did not finish it within 1 s, and the code is used up: start again for a new one",
    );
  }, 15_000);

  test.concurrent("a peer that made the code and left: the joiner gives up with E_PEER_GONE", async () => {
    // A silent peer: allocates, claims, opens, leaves its PAKE message, then never answers.
    const ws = new WebSocket(servers.mailboxUrl);
    const got: Array<Record<string, unknown>> = [];
    const next = (type: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const poll = () => {
          const hit = got.find((m) => m.type === type);
          if (hit) resolve(hit);
          else setTimeout(poll, 10);
        };
        poll();
      });
    ws.addEventListener("message", (e) => got.push(JSON.parse(String(e.data)) as Record<string, unknown>));
    await new Promise((r) => ws.addEventListener("open", r));
    const send = (m: Record<string, unknown>) => ws.send(JSON.stringify(m));
    send({ type: "bind", appid: "lothar.com/wormhole/text-or-file-xfer", side: "00000000000000aa" });
    send({ type: "allocate" });
    const nameplate = (await next("allocated")).nameplate as string;
    send({ type: "claim", nameplate });
    send({ type: "open", mailbox: (await next("claimed")).mailbox });
    const message = spake2Start(new TextEncoder().encode("x"), new TextEncoder().encode("y")).message;
    const pake = Buffer.from(JSON.stringify({ pake_v1: Buffer.from(message).toString("hex") })).toString("hex");
    send({ type: "add", phase: "pake", body: pake });
    const error = await meetThroughMailbox({
      mailboxUrl: servers.mailboxUrl,
      code: `${nameplate}-left-behind`,
      timeoutMs: 500, // its only wait: the peer that left never answers, whatever the bound
    }).catch((e) => e);
    ws.close();
    expect(error).toBeInstanceOf(WormholeError);
    expect((error as WormholeError).code).toBe("E_PEER_GONE");
  });
});
