/**
 * Parley against a crafted plain wormhole peer, played in this process with the pure modules
 * (the mailbox client, the file-transfer messages, transit, SecretBox records) so that it can
 * misbehave in ways the real client never does:
 *
 * - a record that does not open (a flipped bit), a record out of order (one skipped): `parley
 *   receive` exits 4, and nothing is left under the final name (nor a `.part`);
 * - an ack whose SHA-256 is not the file's: `parley send` exits 4;
 * - more bytes than offered: exit 4;
 * - a file and a folder offered, then declined or with no transit path: the same exit code and
 *   --json error code for both (one offerToPlain);
 * - a signal while a folder's offer waits (parley send, the chat): no temp zip left; while a
 *   folder's zip arrives in the chat: no hidden .part left;
 * - a hint whose host is no host name (words of the sender's in it): not dialed, not in our lines;
 * - a peer that sends message after message and never offers: the chat's wait ends.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TransitRecordOpener, TransitRecordSealer } from "../../src/crypto/transit-records.ts";
import { type Connection, localAddresses } from "../../src/net/index.ts";
import { encodeAnswer, encodeError, encodeOffer, encodeTransit, encodeTransitAck } from "../../src/protocol/index.ts";
import { MAX_WAITED_MESSAGES } from "../../src/session/plain-peer.ts";
import { closePeerKit, joinCode, transitAs, untilMessage } from "../wormhole-peer-kit.ts";
import { Cli, cleanup, closedPort, makeTempDir, PARLEY, ROOT, startCli } from "./helpers.ts";
import { events, parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("crafted wormhole peer tests (test/e2e/wormhole-crafted.test.ts)");
const { available, mailbox } = kit;
afterEach(async () => {
  await closePeerKit();
  await cleanup();
});

const relay = () => ({ host: "127.0.0.1", port: kit.servers().relay.port });

/**
 * Plays `wormhole send` of a `size`-byte file into `parley receive`, then `misbehave`s on the
 * transit connection; resolves with the receiver's exit code and what is in its folder.
 */
async function craftedSender(
  size: number,
  misbehave: (conn: Connection, sealer: TransitRecordSealer) => void,
  started: (cli: Cli) => void = () => {},
): Promise<{ exit: number; files: string[]; cli: Cli }> {
  const dir = makeTempDir();
  const cli = startCli("parley-receive", ["receive", ...mailbox(), "--dir", dir, "--json"]);
  started(cli);
  const { w, key } = await joinCode(kit.servers(), await parleyCode(cli));
  w.send(encodeTransit([], [relay()]));
  w.send(encodeOffer({ kind: "file", name: "victim.bin", size }));
  const answer = await untilMessage(w, "answer");
  expect(answer.message.answer).toEqual({ kind: "file_ack", ok: true });
  const { conn, keys } = await transitAs(kit.servers(), w, key, "sender", answer.hints);
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

describe.skipIf(!available)("a crafted wormhole sender that stalls", () => {
  test("Ctrl-C in the middle of its file: exit 130, no .part left (a plain peer cannot resume)", async () => {
    let cli: Cli | undefined;
    const { exit, files } = await craftedSender(
      1_000_000,
      (conn, sealer) => {
        conn.write(Uint8Array.from(sealer.seal(randomBytes(300_000))));
        // The receiver has the bytes in its .part once it reports them.
        void cli?.waitForLine(/"type":"progress".*"bytes":300000/).then(() => cli?.kill("SIGINT"));
      },
      (c) => {
        cli = c;
      },
    );
    expect(exit).toBe(130);
    expect(files).toEqual([]);
  }, 60_000);

  test("the same in the chat: Ctrl-C while its file arrives leaves no .part", async () => {
    const dir = makeTempDir();
    const chat = startCli("chat", [...mailbox(), "--no-progress", "--dir", dir]);
    const { match } = await chat.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w, key } = await joinCode(kit.servers(), match[1] as string);
    w.send(encodeTransit([], [relay()]));
    w.send(encodeOffer({ kind: "file", name: "victim.bin", size: 1_000_000 }));
    const answer = await untilMessage(w, "answer");
    const { conn, keys } = await transitAs(kit.servers(), w, key, "sender", answer.hints);
    conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
    conn.write(Uint8Array.from(new TransitRecordSealer(keys.sendKey).seal(randomBytes(300_000))));
    await chat.waitForLine(/^Receiving #1 victim\.bin /);
    expect(readdirSync(dir)).toEqual(["victim.bin.part"]);
    chat.kill("SIGINT");
    expect(await chat.exitCode(30_000)).toBe(130);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!available)("a crafted wormhole sender of a folder that stalls, into the chat", () => {
  test("Ctrl-C while its zip arrives leaves no hidden .part", async () => {
    const dir = makeTempDir();
    const chat = startCli("chat", [...mailbox(), "--no-progress", "--dir", dir]);
    const { match } = await chat.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w, key } = await joinCode(kit.servers(), match[1] as string);
    w.send(encodeTransit([], [relay()]));
    const folder = { name: "gift", mode: "zipfile/deflated", zipSize: 1_000_000, numBytes: 2_000_000, numFiles: 3 };
    w.send(encodeOffer({ kind: "directory", ...folder }));
    const answer = await untilMessage(w, "answer");
    const { conn, keys } = await transitAs(kit.servers(), w, key, "sender", answer.hints);
    conn.setEvents({ onData() {}, onDrain() {}, onClose() {} });
    conn.write(Uint8Array.from(new TransitRecordSealer(keys.sendKey).seal(randomBytes(300_000))));
    await chat.waitForLine(/^Receiving folder gift: /);
    // The kit dials the chat's direct hint on loopback (they name this machine's other addresses);
    // the chat was dialed, so the kit's end is named by its host alone (it said 127.0.0.1:PORT,
    // the port the kit's system picked for the connection: nothing listens there).
    expect(chat.linesMatching(/^Connected /)).toEqual(["Connected directly to 127.0.0.1"]);
    expect(readdirSync(dir)).toHaveLength(1); // the zip's hidden .part
    chat.kill("SIGINT");
    expect(await chat.exitCode(30_000)).toBe(130);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!available)("a crafted wormhole receiver", () => {
  test("an ack with a wrong SHA-256: parley send exits 4", async () => {
    const src = join(makeTempDir(), "sent.bin");
    writeFileSync(src, randomBytes(200_000));
    const cli = startCli("parley-send", ["send", src, ...mailbox(), "--json"]);
    const { w, key } = await joinCode(kit.servers(), await parleyCode(cli));
    const offer = await untilMessage(w, "offer");
    expect(offer.message.offer).toEqual({ kind: "file", name: "sent.bin", size: 200_000 });
    w.send(encodeTransit([], [relay()]));
    w.send(encodeAnswer("file_ack"));
    const { conn, keys } = await transitAs(kit.servers(), w, key, "receiver", offer.hints);
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

describe.skipIf(!available)("the hints a crafted wormhole receiver is given", () => {
  /** `parley send` to a crafted receiver: the direct hints it is given, then it declines (exit 3). */
  async function hintsGiven(env?: Record<string, string>): Promise<string[]> {
    const src = join(makeTempDir(), "sent.bin");
    writeFileSync(src, randomBytes(1000));
    const args = ["send", src, ...mailbox(), "--json"];
    const cli = env ? new Cli("parley-send", args, undefined, undefined, { env }) : startCli("parley-send", args);
    const { w } = await joinCode(kit.servers(), await parleyCode(cli));
    const offer = await untilMessage(w, "offer");
    w.send(encodeError("transfer rejected"));
    expect(await cli.exitCode(30_000)).toBe(3);
    return offer.hints.direct.map((h) => h.host);
  }

  test("PARLEY_HINT_ADDRESSES (the run's 127.0.0.1) is all they name; blank, this machine's addresses beyond loopback", async () => {
    const [given, blank] = await Promise.all([hintsGiven(), hintsGiven({ PARLEY_HINT_ADDRESSES: "" })]);
    // Before, 127.0.0.1 was not among them here: only eth0's 192.0.2.2, where a peer's dial went.
    expect(given).toEqual(["127.0.0.1"]);
    expect(blank).toEqual(localAddresses());
  }, 60_000);
});

describe.skipIf(!available)("a crafted wormhole receiver: a file and a folder fail alike after the offer", () => {
  /** `parley send` of a file or of a folder (`--no-listen`, its relay a closed port) to a peer that `answers`. */
  async function sendTo(
    what: "file" | "folder",
    answer: Uint8Array,
    relayPort: number,
  ): Promise<{ exit: number; error: unknown }> {
    const parent = makeTempDir();
    const path = join(parent, what === "file" ? "sent.bin" : "album");
    if (what === "file") writeFileSync(path, randomBytes(1000));
    else {
      mkdirSync(path);
      writeFileSync(join(path, "inside.bin"), randomBytes(1000));
    }
    const flags = ["--relay-url", kit.servers().mailboxUrl, "--transit-helper", `tcp:127.0.0.1:${relayPort}`];
    const cli = startCli(`parley-send-${what}`, ["send", path, ...flags, "--no-listen", "--json"]);
    const { w } = await joinCode(kit.servers(), await parleyCode(cli));
    const offer = await untilMessage(w, "offer");
    expect(offer.message.offer?.kind).toBe(what === "file" ? "file" : "directory");
    w.send(answer); // no transit hints of ours: with --no-listen the sender's one way is its relay
    const exit = await cli.exitCode(30_000);
    const error = events(cli).find((e) => e.type === "error");
    return { exit, error: error && { code: error.code, message: error.message } };
  }

  test.each([
    ["declined", encodeError("transfer rejected"), 3, "E_REJECTED"],
    ["accepted, the relay unreachable", encodeAnswer("file_ack"), 2, "E_RELAY_UNREACHABLE"],
  ] as const)(
    "%s: the same exit code and --json error for both",
    async (_how, answer, exit, code) => {
      const port = closedPort();
      const [file, folder] = await Promise.all([sendTo("file", answer, port), sendTo("folder", answer, port)]);
      expect(file).toMatchObject({ exit, error: { code } });
      expect(folder).toEqual(file);
    },
    60_000,
  );
});

describe.skipIf(!available)("a crafted wormhole receiver that never answers a folder", () => {
  /** A folder `album` of two small files in a new folder; @returns its path */
  function album(): string {
    const path = join(makeTempDir(), "album");
    mkdirSync(path);
    writeFileSync(join(path, "a.bin"), randomBytes(1000));
    writeFileSync(join(path, "b.bin"), randomBytes(1000));
    return path;
  }

  test("parley send DIR, then SIGINT while the folder is zipped: its half-made zip is not left either", async () => {
    const tmp = makeTempDir();
    const folder = join(makeTempDir(), "big");
    mkdirSync(folder);
    // 32 MiB of random letters: deflated (it compresses) for a second or more, the window here.
    const letters = randomBytes(32 * 1024 * 1024).map((b) => 97 + (b % 26));
    writeFileSync(join(folder, "letters.txt"), letters);
    const args = [...PARLEY, "send", folder, ...mailbox(), "--json"];
    const cli = new Cli("parley-send", [], args, ROOT, { env: { TMPDIR: tmp } });
    await joinCode(kit.servers(), await parleyCode(cli));
    const deadline = Date.now() + 30_000;
    while (readdirSync(tmp).length === 0) {
      if (Date.now() > deadline) throw new Error(`no temp folder in 30 s\n${cli.describe()}`);
      await Bun.sleep(5);
    }
    cli.proc.kill("SIGINT");
    expect(await cli.exitCode(30_000)).toBe(130);
    // Reached while zipping: the offer comes once the zip is built.
    expect(`${cli.stderr}\n${cli.lines.join("\n")}`, cli.describe()).not.toContain("Offered");
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  test.each([
    ["parley send DIR", "SIGINT", 130],
    ["the chat's transfer DIR", "SIGINT", 130],
    ["parley send DIR", "SIGTERM", 143],
  ] as const)(
    "%s, then %s while the offer waits: its zip is not left in the temp folder",
    async (how, signal, exit) => {
      const tmp = makeTempDir(); // the zip's temp folder (TMPDIR)
      const env = { env: { TMPDIR: tmp } };
      let cli: Cli;
      let code: string;
      if (how === "parley send DIR") {
        cli = new Cli("parley-send", [], [...PARLEY, "send", album(), ...mailbox(), "--json"], ROOT, env);
        code = await parleyCode(cli);
      } else {
        const args = [...mailbox(), "--no-progress", "--dir", makeTempDir()];
        cli = new Cli("chat", [], [...PARLEY, ...args], ROOT, env);
        code = (await cli.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000)).match[1] as string;
      }
      const { w } = await joinCode(kit.servers(), code);
      if (how !== "parley send DIR") {
        await cli.waitForLine(/^A plain wormhole client \(not Parley\) joined/, 30_000);
        cli.send(`transfer ${album()}`);
      }
      const offer = await untilMessage(w, "offer");
      expect(offer.message.offer?.kind).toBe("directory");
      expect(readdirSync(tmp), "the zip is built before it is offered").toHaveLength(1);
      cli.proc.kill(signal);
      expect(await cli.exitCode(30_000)).toBe(exit);
      expect(readdirSync(tmp)).toEqual([]);
    },
    60_000,
  );
});

describe.skipIf(!available)("a crafted wormhole receiver that never confirms a text", () => {
  test("parley send --text: after its wait (30 s; 2 s here), one Error line (E_NO_ACK), exit 3", async () => {
    const args = [...PARLEY, "send", "--text", "are you there?", ...mailbox()];
    const cli = new Cli("parley-send-text", [], args, ROOT, { env: { PARLEY_MAILBOX_TEXT_ACK_MS: "2000" } });
    const { match } = await cli.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w } = await joinCode(kit.servers(), match[1] as string);
    const offer = await untilMessage(w, "offer");
    expect(offer.message.offer).toEqual({ kind: "message", text: "are you there?" });
    // No message_ack: as a `wormhole receive` stopped or killed after the key exchange (its
    // mailbox tells us nothing). Before: parley send waited with no time limit.
    expect(await cli.exitCode(20_000)).toBe(3);
    expect(`${cli.stdout}${cli.stderr}`.split("\n").filter((l) => l.startsWith("Error:"))).toEqual([
      "Error: the wormhole peer did not confirm the text message within 2 s: it failed or was stopped on its side (a wormhole client that gives up tells us nothing through the mailbox); it may have shown the text.",
    ]);
  }, 60_000);

  test("one that sends other messages meanwhile (transit hints every 0.5 s): the wait is still 2 s", async () => {
    const args = [...PARLEY, "send", "--text", "are you there?", ...mailbox()];
    const cli = new Cli("parley-send-text", [], args, ROOT, { env: { PARLEY_MAILBOX_TEXT_ACK_MS: "2000" } });
    const { match } = await cli.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w } = await joinCode(kit.servers(), match[1] as string);
    await untilMessage(w, "offer");
    // Each message restarted the wait (it was per message): a receiver that never answers, but
    // says something else every 0.5 s, kept parley send waiting for ever.
    const chatter = setInterval(() => w.send(encodeTransit([], [relay()])), 500);
    try {
      expect(await cli.exitCode(15_000)).toBe(3);
    } finally {
      clearInterval(chatter);
    }
    expect(`${cli.stdout}${cli.stderr}`.split("\n").filter((l) => l.startsWith("Error:"))).toEqual([
      "Error: the wormhole peer did not confirm the text message within 2 s: it failed or was stopped on its side (a wormhole client that gives up tells us nothing through the mailbox); it may have shown the text.",
    ]);
  }, 60_000);
});

describe.skipIf(!available)("the hints a crafted wormhole sender gives", () => {
  test("a hint whose host is no host name is not dialed, and its words never reach a line of ours", async () => {
    const dir = makeTempDir();
    const helper = `tcp:127.0.0.1:${closedPort()}`;
    const args = [
      "receive",
      "--no-listen",
      "--relay-url",
      kit.servers().mailboxUrl,
      "--transit-helper",
      helper,
      "--dir",
      dir,
    ];
    const cli = startCli("parley-receive", args);
    const { match } = await cli.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w } = await joinCode(kit.servers(), match[1] as string);
    // Printable words, not controls (those were made visible already): before, the line read
    // "cannot reach the transit relay 127.0.0.1:P: it refused ...; relay.example.org:4001: it
    // refused the connection (nothing listens there); 10.0.0.7:4001: no such host ...".
    const forged = "relay.example.org:4001: it refused the connection (nothing listens there); 10.0.0.7";
    w.send(encodeTransit([{ host: `${forged} direct`, port: 4001 }], [{ host: forged, port: 4001 }]));
    w.send(encodeOffer({ kind: "file", name: "victim.bin", size: 1000 }));
    expect(await cli.exitCode(30_000)).toBe(2);
    const errors = `${cli.stdout}${cli.stderr}`.split("\n").filter((l) => l.startsWith("Error:"));
    expect(errors, cli.describe()).toEqual([
      `Error: cannot reach the transit relay ${helper.slice(4)}: it refused the connection (nothing listens there).`,
    ]);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!available)("a crafted wormhole peer that never offers", () => {
  test("the chat's wait for its offer (no deadline) ends after MAX_WAITED_MESSAGES other messages", async () => {
    const chat = startCli("alice", [...mailbox(), "--no-progress", "--dir", makeTempDir()]);
    const { match } = await chat.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const { w } = await joinCode(kit.servers(), match[1] as string);
    // The chat's wait has begun (the line, then receiveOffer in the same turn): 65 messages that
    // came before anyone read one would trip the mailbox's own unread bound (64) instead.
    await chat.waitForLine(/^A plain wormhole client \(not Parley\) joined/, 30_000);
    // Its hints again and again, never an offer: before, the chat waited for ever, each message
    // remembered (MailboxPhases' seen set, a reaction on the wait's end).
    for (let i = 0; i < MAX_WAITED_MESSAGES + 1; i++) w.send(encodeTransit([], [relay()]));
    expect(await chat.exitCode(30_000)).toBe(3);
    expect(chat.linesMatching(/^Error: /), chat.describe()).toEqual([
      `Error: the wormhole peer sent ${MAX_WAITED_MESSAGES} messages and not an offer.`,
    ]);
  }, 60_000);
});
