/**
 * The mailbox client against a real magic-wormhole mailbox server on 127.0.0.1: allocate and
 * join a code, the verified key on both sides, application messages in order, wrong code on
 * both sides, an unknown nameplate, a third claimant, an unreachable mailbox.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { WormholeError } from "../../src/session/mailbox-client.ts";
import { MAX_UNREAD_BYTES, MAX_UNREAD_MESSAGES, Wormhole } from "../../src/session/wormhole.ts";
import { freePort, type WormholePair, WormholeServers, wormholeServersAvailable } from "../wormhole-servers.ts";

const available = wormholeServersAvailable("mailbox client tests (test/integration/mailbox.test.ts)");
let servers: WormholePair;
const opened: Wormhole[] = [];

beforeAll(async () => {
  if (available) servers = await WormholeServers.shared();
}, 90_000);
afterAll(async () => {
  await Promise.all(opened.map((w) => w.close()));
}, 90_000);

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function open(versions: Record<string, unknown>, code?: string, maxUnreadBytes?: number): Promise<Wormhole> {
  const w = await Wormhole.open(servers.mailboxUrl, versions, code, maxUnreadBytes);
  opened.push(w);
  return w;
}

/** How long a Wormhole may take to give up on a peer, at most: far above the few ms it takes, under Bun's 5 s per test. */
const GIVE_UP_MS = 3_000;

/** The code `w` failed with (its public `failed`), or a rejection after GIVE_UP_MS. */
async function failedCode(w: Wormhole): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the Wormhole did not fail within ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
  });
  try {
    return (await Promise.race([w.failed, late])).code;
  } finally {
    clearTimeout(timer);
  }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(WormholeError);
    return (err as WormholeError).code;
  }
  throw new Error("did not fail");
}

describe.skipIf(!available)("mailbox client (real mailbox server)", () => {
  test("allocate, join, one key, the peer's versions, messages in order both ways", async () => {
    const a = await open({ app_versions: { who: "a" } });
    const code = await a.code.promise;
    expect(code).toMatch(/^\d+-[a-z]+-[a-z]+$/);
    const b = await open({ app_versions: { who: "b" } }, code);
    const [va, vb] = await Promise.all([a.verified.promise, b.verified.promise]);
    expect(va.key).toEqual(vb.key);
    expect(va.versions).toEqual({ app_versions: { who: "b" } });
    expect(vb.versions).toEqual({ app_versions: { who: "a" } });
    for (const m of ["one", "two", "three"]) a.send(utf8(m));
    b.send(utf8("back"));
    expect([text(await b.nextMessage()), text(await b.nextMessage()), text(await b.nextMessage())]).toEqual([
      "one",
      "two",
      "three",
    ]);
    expect(text(await a.nextMessage())).toBe("back");
  });

  test("a peer that adds messages nobody reads: kept up to MAX_UNREAD_MESSAGES, then the mailbox is given up", async () => {
    // A Parley peer's mailbox stays open for the session, unread after the transit hints.
    const a = await open({ app_versions: {} });
    const b = await open({ app_versions: {} }, await a.code.promise);
    await Promise.all([a.verified.promise, b.verified.promise]);
    for (let i = 0; i <= MAX_UNREAD_MESSAGES; i++) b.send(utf8(`m${i}`));
    // Nothing reads until A has given up (before, it kept all 65 and never did).
    expect(await failedCode(a)).toBe("E_PEER_PROTOCOL");
    const read: string[] = [];
    for (let i = 0; i < MAX_UNREAD_MESSAGES; i++) read.push(text(await a.nextMessage()));
    expect(read.at(-1)).toBe(`m${MAX_UNREAD_MESSAGES - 1}`);
    expect(await failure(a.nextMessage())).toBe("E_PEER_PROTOCOL");
  });

  test("a peer that adds a few large messages nobody reads: once the unread bytes reach the bound, the next fails", async () => {
    // Each message may be 16 MiB: 64 of them were 1 GiB. The bound is lowered to 1000 bytes here.
    const a = await open({ app_versions: {} }, undefined, 1000);
    const b = await open({ app_versions: {} }, await a.code.promise);
    await Promise.all([a.verified.promise, b.verified.promise]);
    for (let i = 0; i < 3; i++) b.send(utf8(`${i}`.repeat(600)));
    expect(await failedCode(a)).toBe("E_PEER_PROTOCOL");
    expect(text(await a.nextMessage())).toBe("0".repeat(600));
    expect(text(await a.nextMessage())).toBe("1".repeat(600));
    expect(await failure(a.nextMessage())).toBe("E_PEER_PROTOCOL");
    expect(MAX_UNREAD_BYTES).toBe(16 * 1024 * 1024); // a plain text offer of 1 Mi characters is under 7 MiB
  });

  test("a wrong code fails on both sides, and nothing is delivered", async () => {
    const a = await open({});
    const code = await a.code.promise;
    const b = await open({}, `${code}x`);
    expect(await failure(a.verified.promise)).toBe("E_WRONG_CODE");
    expect(await failure(b.verified.promise)).toBe("E_WRONG_CODE");
    expect(await failure(b.nextMessage())).toBe("E_WRONG_CODE");
  });

  test("a nameplate nobody holds is unknown", async () => {
    const b = await open({}, "987654-crossover-clockwork");
    expect(await failure(b.code.promise.then(() => b.verified.promise))).toBe("E_NAMEPLATE_UNKNOWN");
  });

  test("a third claimant is refused; the pair goes on", async () => {
    const a = await open({});
    const code = await a.code.promise;
    const b = await open({}, code);
    await Promise.all([a.verified.promise, b.verified.promise]);
    const c = await open({}, code);
    expect(await failure(c.verified.promise)).toBe("E_NAMEPLATE_TAKEN");
    a.send(utf8("still here"));
    expect(text(await b.nextMessage())).toBe("still here");
  });

  test("an unreachable mailbox fails at once", async () => {
    const port = freePort();
    expect(await failure(Wormhole.open(`ws://127.0.0.1:${port}/v1`, {}))).toBe("E_MAILBOX_UNREACHABLE");
  });
});
