/**
 * PeerLink's `loadWithSession` (src/cli/connect.ts): a command's code that only a session
 * needs loads with the session layer after the code is shown, and a peer that connects
 * before it has loaded waits for it: no session event, and no `connected`, comes first.
 * Two links in this process over 127.0.0.1; the listener's load is held by a gate.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LinkOptions, type LinkOutput, PeerLink } from "../../src/cli/connect.ts";
import type { SessionEvents } from "../../src/session/index.ts";
import { testIo } from "../in-process-io.ts";

const links: PeerLink[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const link of links.splice(0)) {
    link.current?.abort("test over");
    link.finish(0);
    await link.exitCode;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const quietEvents: SessionEvents = {
  chatReceived() {},
  transferStarted() {},
  transferProgressed() {},
  transferFinished() {},
  transferFailed() {},
  peerLeft() {},
  connectionLost() {},
  closed() {},
};

/** A link on 127.0.0.1 whose outputs are logged into `log` with `who` in front. */
function link(who: string, log: string[], extra: Partial<LinkOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "parley-link-"));
  dirs.push(dir);
  let shown: { port: number; code: string } | undefined;
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  const output: LinkOutput = {
    listening: (_host, port, _reach, code) => {
      shown = { port, code };
      log.push(`${who} listening`);
    },
    connected: () => {
      log.push(`${who} connected`);
      onConnected();
    },
    note: () => {},
    error: (code) => log.push(`${who} error ${code}`),
    interrupted: () => {},
  };
  const l = new PeerLink(
    {
      host: "127.0.0.1",
      port: 0,
      insecurePortOnly: false,
      dialerRetries: false,
      session: { downloadDir: dir, checksum: "sha256", events: quietEvents },
      ...extra,
    },
    output,
    testIo(dir),
  );
  links.push(l);
  return { link: l, shown: () => shown as { port: number; code: string }, connected };
}

/** A gate the test opens. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open: () => void = () => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

test("ready() resolves only once loadWithSession has: later than a link without one", async () => {
  const held = gate();
  const { link: l } = link("listener", [], { loadWithSession: () => held.wait });
  const { link: plain } = link("plain", []);
  let ready = false;
  const readying = l.ready().then(() => {
    ready = true;
  });
  await plain.ready();
  await turns(5);
  expect(ready).toBe(false);
  held.open();
  await readying;
  expect(ready).toBe(true);
});

test("a dialer that connects before the listener's loadWithSession has loaded waits for it", async () => {
  const log: string[] = [];
  const held = gate();
  const listener = link("listener", log, {
    loadWithSession: async () => {
      log.push("listener loading");
      await held.wait;
      log.push("listener loaded");
    },
  });
  expect(listener.link.listen()).toBe(true);
  const dialer = link("dialer", log);
  const { port } = listener.shown();
  const dialing = dialer.link.dial({ host: "127.0.0.1", port, words: listener.link.codeWords });
  // Time for a wrong order to show (the listener's handshake run without waiting for the
  // gate); the test above is the exact check of the order, this one that a waiting peer is served.
  await dialer.link.ready();
  await Bun.sleep(300);
  expect(log).toEqual(["listener listening", "listener loading"]);
  held.open();
  expect(await dialing).toBe("session");
  await listener.connected;
  expect(log.slice(0, 3)).toEqual(["listener listening", "listener loading", "listener loaded"]);
  expect(log.slice(3).sort()).toEqual(["dialer connected", "listener connected"]);
});
