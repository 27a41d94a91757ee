/**
 * MailboxClient (session/mailbox-client.ts) against an in-memory mailbox server: the part of
 * server-protocol.md two clients need (allocate, list, claim, open, add -> message to both
 * sides), so what a client does with large messages and with the server's own words is tested
 * without a WebSocket.
 */

import { expect, test } from "bun:test";
import { spake2Start } from "../../src/crypto/spake2.ts";
import { WORMHOLE_APPID } from "../../src/crypto/wormhole-keys.ts";
import {
  MAX_EARLY_BYTES,
  MAX_EARLY_MESSAGES,
  MAX_PENDING_BYTES,
  MAX_PENDING_MESSAGES,
  MAX_SERVER_WORDS,
  MailboxClient,
  type WormholeError,
} from "../../src/session/mailbox-client.ts";

type Message = Record<string, unknown> & { type: string };

/** Two clients on one in-memory mailbox: A makes the code, B joins it. `lost` adds are never delivered. */
function pair(lost: (phase: unknown) => boolean = () => false) {
  const received: Uint8Array[] = [];
  const failures: WormholeError[] = [];
  const verified = { a: false, b: false };
  const clients: MailboxClient[] = [];
  const deliver = (to: number, message: Message) => queueMicrotask(() => clients[to]?.handle(message));
  /** What was added so far: a side that opens the mailbox later gets it all first, as from a real server. */
  const log: Message[] = [];
  /** The server: one nameplate "4", one mailbox; every add goes to every side that opened it (the adder too). */
  const server = (from: number, m: Record<string, unknown>) => {
    switch (m.type) {
      case "allocate":
        return deliver(from, { type: "allocated", nameplate: "4" });
      case "list":
        return deliver(from, { type: "nameplates", nameplates: [{ id: "4" }] });
      case "claim":
        return deliver(from, { type: "claimed", mailbox: "m1" });
      case "open":
        for (const message of log) deliver(from, message);
        return;
      case "add": {
        const message = { type: "message", side: clients[from]?.side, phase: m.phase, body: m.body };
        if (lost(m.phase)) return;
        log.push(message);
        for (const to of clients.keys()) deliver(to, message);
        return;
      }
    }
  };
  const events = (name: "a" | "b") => ({
    codeKnown: () => {},
    verified: () => {
      verified[name] = true;
    },
    received: (data: Uint8Array) => received.push(data),
    failed: (error: WormholeError) => failures.push(error),
    closed: () => {},
  });
  const a = new MailboxClient({ send: (m) => server(0, m) }, events("a"), { app_versions: {} });
  clients.push(a);
  a.start();
  return {
    received,
    failures,
    verified,
    a,
    /** B joins once A has its code. */
    async join(): Promise<MailboxClient> {
      while (a.currentCode === undefined) await Bun.sleep(0);
      const b = new MailboxClient({ send: (m) => server(1, m) }, events("b"), { app_versions: {} }, a.currentCode);
      clients.push(b);
      b.start();
      while (!(verified.a && verified.b) && failures.length === 0) await Bun.sleep(0);
      return b;
    },
  };
}

test("a 2 MB application message (a long text offer) arrives whole, not as 'a malformed message'", async () => {
  // `wormhole send --text` of 400,000 CJK characters is 2.4 MB of JSON (each escaped as \uXXXX):
  // its hex body, over 3.7 million characters, was past what the old regex check could match.
  const p = pair();
  const b = await p.join();
  expect(p.failures).toEqual([]);
  const text = JSON.stringify({ offer: { message: "\\u4e2d".repeat(2_000_000 / 6) } });
  b.send(new TextEncoder().encode(text));
  while (p.received.length === 0 && p.failures.length === 0) await Bun.sleep(0);
  expect(p.failures.map((f) => f.message)).toEqual([]);
  expect(new TextDecoder().decode(p.received[0])).toBe(text);
});

/** A started client whose server is the test (it answers nothing by itself): joining `code`, else making one; its failures. */
function started(code?: string) {
  const failures: WormholeError[] = [];
  const client = new MailboxClient(
    { send: () => {} },
    { codeKnown: () => {}, verified: () => {}, received: () => {}, failed: (e) => failures.push(e), closed: () => {} },
    {},
    code,
  );
  client.start();
  return { client, failures };
}

/** A client that joined "4-crossover-clockwork" and has opened its mailbox; its failures. */
function opened() {
  const opened = started("4-crossover-clockwork");
  opened.client.handle({ type: "nameplates", nameplates: [{ id: "4" }] });
  opened.client.handle({ type: "claimed", mailbox: "m1" });
  return opened;
}

test("a body that is not whole hex pairs still fails the meeting (E_PEER_PROTOCOL)", () => {
  for (const body of ["abc", "zz", `${"ab".repeat(10)}g0`]) {
    const { client, failures } = opened();
    client.handle({ type: "message", side: "0123456789abcdef", phase: "pake", body });
    expect(failures.map((f) => f.code)).toEqual(["E_PEER_PROTOCOL"]);
  }
});

test("the server's own words (its error, its welcome's) are cut to MAX_SERVER_WORDS characters", () => {
  for (const message of [
    { type: "error", error: "x".repeat(5_000_000) },
    { type: "welcome", welcome: { error: "y".repeat(5_000_000) } },
  ]) {
    const { client, failures } = started();
    client.handle(message);
    expect(failures).toHaveLength(1);
    expect(failures[0]?.code).toBe("E_MAILBOX_REFUSED");
    expect(failures[0]?.message.length).toBeLessThan(MAX_SERVER_WORDS + 60);
    expect(failures[0]?.message).toEndWith("(4999700 more characters)");
  }
});

test("the server's words are not cut inside a character of two UTF-16 units (an emoji at the bound)", () => {
  const { client, failures } = started();
  client.handle({ type: "error", error: `${"a".repeat(MAX_SERVER_WORDS - 1)}\u{1F600}${"b".repeat(10)}` });
  const message = failures[0]?.message ?? "";
  expect(message).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/u);
  expect(message).toContain(`${"a".repeat(MAX_SERVER_WORDS - 1)}… (12 more characters)`);
});

test("messages before any PAKE message (a hostile server, a second claimant): held up to MAX_EARLY_MESSAGES, then the meeting fails", () => {
  const { client, failures } = opened();
  const body = "ab".repeat(512);
  let sent = 0;
  while (failures.length === 0 && sent < 100_000) {
    client.handle({ type: "message", side: `${sent}`.padStart(16, "0"), phase: "version", body });
    sent++;
  }
  expect(failures.map((f) => f.code)).toEqual(["E_MAILBOX_PROTOCOL"]);
  expect(sent).toBe(MAX_EARLY_MESSAGES + 1);
});

test("messages of phases no peer uses (a hostile server's, endless) are ignored and not remembered: the heap stays put", async () => {
  const p = pair();
  const b = await p.join();
  const { heapStats } = await import("bun:jsc");
  const heap = () => {
    Bun.gc(true);
    return heapStats().heapSize;
  };
  const before = heap();
  // Before: each was remembered in `seen` (a real chat through such a server: 839 MB after 8 million).
  for (let i = 0; i < 500_000; i++) p.a.handle({ type: "message", side: b.side, phase: `x${i}`, body: "00" });
  const grown = heap() - before;
  expect(p.failures).toEqual([]);
  expect(grown, `the heap grew by ${grown} bytes`).toBeLessThan(16 * 1024 * 1024);
});

test("application messages out of order: held up to MAX_PENDING_MESSAGES, then the meeting fails", async () => {
  const p = pair((phase) => phase === "0"); // phase 0 never arrives: every later one waits for it
  const b = await p.join();
  for (let i = 0; i <= MAX_PENDING_MESSAGES + 1; i++) b.send(Uint8Array.of(i));
  await Bun.sleep(0); // the in-memory server delivers in microtasks: all of them are in now
  expect(p.received).toEqual([]);
  expect(p.failures.map((f) => [f.code, f.message])).toEqual([
    [
      "E_PEER_PROTOCOL",
      `more than ${MAX_PENDING_MESSAGES} mailbox messages or ${MAX_PENDING_BYTES} bytes out of order`,
    ],
  ]);
});

test("a few large messages before any PAKE message: held up to MAX_EARLY_BYTES, not 16 of up to 16 MiB", () => {
  // A second claimant needs no code: the count alone let it make us hold 256 MiB.
  const { client, failures } = opened();
  const body = "ab".repeat((MAX_EARLY_BYTES * 3) / 4); // 0.75 MiB each
  client.handle({ type: "message", side: "0000000000000001", phase: "version", body });
  expect(failures).toEqual([]);
  client.handle({ type: "message", side: "0000000000000001", phase: "1", body });
  expect(failures.map((f) => f.code)).toEqual(["E_MAILBOX_PROTOCOL"]);
});

test("large application messages out of order: once MAX_PENDING_BYTES wait, the next fails the meeting", async () => {
  const p = pair((phase) => phase === "0"); // phase 0 never arrives: every later one waits for it
  const b = await p.join();
  const piece = new Uint8Array((MAX_PENDING_BYTES * 3) / 4);
  for (let i = 0; i < 4; i++) b.send(piece); // phase 0 lost; 1 and 2 wait (1.5 MiB), 3 fails
  await Bun.sleep(0); // the in-memory server delivers in microtasks: all of them are in now
  expect(p.received).toEqual([]);
  expect(p.failures.map((f) => f.code)).toEqual(["E_PEER_PROTOCOL"]);
});

test("messages in order, each larger than MAX_PENDING_BYTES, all arrive (only what waits is bounded)", async () => {
  const p = pair();
  const b = await p.join();
  for (let i = 0; i < 3; i++) b.send(new Uint8Array(MAX_PENDING_BYTES + 1).fill(i));
  while (p.received.length < 3 && p.failures.length === 0) await Bun.sleep(0);
  expect(p.failures).toEqual([]);
  expect(p.received.map((r) => [r.length, r[0]])).toEqual([0, 1, 2].map((i) => [MAX_PENDING_BYTES + 1, i]));
});

/** A client whose sends are recorded (types only, with a claim's, open's and add's argument). */
function recorded(code?: string) {
  const sent: string[] = [];
  const failures: WormholeError[] = [];
  const client = new MailboxClient(
    {
      send: (m) => sent.push([m.type, m.nameplate ?? m.mailbox ?? m.phase].filter((x) => x !== undefined).join(" ")),
    },
    { codeKnown: () => {}, verified: () => {}, received: () => {}, failed: (e) => failures.push(e), closed: () => {} },
    {},
    code,
  );
  client.start();
  return { client, sent, failures, since: (n: number) => sent.slice(n) };
}

test("a new connection asks again for what was not answered: bind (same side), then list, allocate or claim", () => {
  const listing = recorded("4-crossover-clockwork");
  let n = listing.sent.length;
  listing.client.reconnected();
  expect(listing.since(n)).toEqual(["bind", "list"]);
  listing.client.handle({ type: "nameplates", nameplates: [{ id: "4" }] });
  n = listing.sent.length;
  listing.client.reconnected();
  expect(listing.since(n)).toEqual(["bind", "claim 4"]);

  const allocating = recorded();
  n = allocating.sent.length;
  allocating.client.reconnected();
  expect(allocating.since(n)).toEqual(["bind", "allocate"]);
});

test("an open mailbox: its nameplate claimed again; the same mailbox re-opened and unechoed adds sent again, echoed ones not", () => {
  const r = recorded("4-crossover-clockwork");
  r.client.handle({ type: "nameplates", nameplates: [{ id: "4" }] });
  r.client.handle({ type: "claimed", mailbox: "m1" });
  expect(r.sent.slice(-2)).toEqual(["open m1", "add pake"]);
  let n = r.sent.length;
  r.client.reconnected();
  expect(r.since(n)).toEqual(["bind", "claim 4"]);
  n = r.sent.length;
  r.client.handle({ type: "claimed", mailbox: "m1" });
  expect(r.since(n)).toEqual(["open m1", "add pake"]); // never echoed: added again
  // Echoed (the server has it): not added again on the next connection.
  r.client.handle({ type: "message", side: r.client.side, phase: "pake", body: "00" });
  r.client.reconnected();
  n = r.sent.length;
  r.client.handle({ type: "claimed", mailbox: "m1" });
  expect(r.since(n)).toEqual(["open m1"]);
  expect(r.failures).toEqual([]);
});

test("a claim answered with another mailbox on a new connection: the server forgot the code, E_MAILBOX_LOST", () => {
  const r = recorded("4-crossover-clockwork");
  r.client.handle({ type: "nameplates", nameplates: [{ id: "4" }] });
  r.client.handle({ type: "claimed", mailbox: "m1" });
  r.client.reconnected();
  r.client.handle({ type: "claimed", mailbox: "m2" });
  expect(r.failures.map((f) => f.code)).toEqual(["E_MAILBOX_LOST"]);
  expect(r.failures[0]?.message).toBe("the mailbox server no longer knows code 4-... (it came back without it)");
});

test("a release the server did not answer is sent again on a new connection; the mailbox re-opened without a claim", () => {
  const r = recorded("4-crossover-clockwork");
  r.client.handle({ type: "nameplates", nameplates: [{ id: "4" }] });
  r.client.handle({ type: "claimed", mailbox: "m1" });
  // The peer's PAKE message: the joining side releases the nameplate (the server does not answer yet).
  const peer = spake2Start(new TextEncoder().encode("4-crossover-clockwork"), new TextEncoder().encode(WORMHOLE_APPID));
  const pake = Buffer.from(JSON.stringify({ pake_v1: Buffer.from(peer.message).toString("hex") })).toString("hex");
  r.client.handle({ type: "message", side: "0123456789abcdef", phase: "pake", body: pake });
  expect(r.sent.slice(-2)).toEqual(["release 4", "add version"]);
  let n = r.sent.length;
  r.client.reconnected();
  expect(r.since(n)).toEqual(["bind", "release 4", "open m1", "add pake", "add version"]);
  r.client.handle({ type: "released" });
  n = r.sent.length;
  r.client.reconnected();
  expect(r.since(n)).toEqual(["bind", "open m1", "add pake", "add version"]);
  expect(r.failures).toEqual([]);
});
