/**
 * Parley with the plain magic-wormhole client from Debian (`wormhole`, 0.12), both directions,
 * against the mailbox server and transit relay on 127.0.0.1 (test/wormhole-servers.ts): files
 * byte for byte (0 B, 1 B, a name with spaces and unicode, 64 MiB random) on the direct path and
 * with --no-listen on both ends through the relay; a declined offer (exit 3 with the peer's
 * reason); text from the chat to `wormhole receive`; a wrong code. The wormhole client runs as
 * a process with its stdin a pipe (answered or closed) and is killed by pid in afterEach.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PLAIN_PEER_LINE } from "../../src/cli/plain-run.ts";
import { MAX_PLAIN_TEXT_CHARS } from "../../src/protocol/index.ts";
import { type Cli, cleanup, makeTempDir, startCli, WAIT_MS } from "./helpers.ts";
import {
  chatJoinedByWormholeReceive,
  events,
  type JsonEvent,
  parleyCode,
  useWormholeServers,
  wormholeCli,
  wormholeCode,
} from "./wormhole-kit.ts";

const kit = useWormholeServers("plain wormhole client tests (test/e2e/wormhole-plain.test.ts)", { client: true });
const { available, mailbox } = kit;
afterEach(cleanup);

const LONG_MS = 60_000;
const wormhole = (label: string, args: string[], cwd: string): Cli => wormholeCli(kit, label, args, cwd);

/** A file `name` of `size` random bytes in a new folder. */
function fileOf(name: string, size: number): { path: string; bytes: Buffer; dir: string } {
  const dir = makeTempDir();
  const bytes = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, bytes, dir };
}

/** `parley send FILE --json` with a mailbox, once it shows its code. */
async function parleySend(path: string, extra: string[] = []): Promise<{ cli: Cli; code: string }> {
  const cli = startCli("parley-send", ["send", path, ...mailbox(), "--json", ...extra]);
  return { cli, code: await parleyCode(cli) };
}

/** `wormhole send FILE` -> `parley receive CODE`; the file compared byte for byte. */
async function wormholeToParley(name: string, size: number, noListen: boolean): Promise<JsonEvent[]> {
  const src = fileOf(name, size);
  const flag = noListen ? ["--no-listen"] : [];
  const w = wormhole("wormhole-send", ["send", ...flag, name], src.dir);
  const code = await wormholeCode(w);
  const dir = makeTempDir();
  const r = startCli("parley-receive", ["receive", code, ...mailbox(), "--dir", dir, "--json", ...flag]);
  expect(await r.exitCode(LONG_MS)).toBe(0);
  expect(await w.exitCode(LONG_MS)).toBe(0);
  expect(w.stderr).toContain("Confirmation received. Transfer complete.");
  expect(readdirSync(dir)).toEqual([name]);
  expect(readFileSync(join(dir, name)).equals(src.bytes)).toBe(true);
  // A plain sender sends no checksum: ours is not said to match anything.
  expect(events(r).find((e) => e.type === "done")?.unverified).toBe(true);
  return events(r);
}

/** `parley send FILE` -> `wormhole receive --accept-file CODE`; the file compared byte for byte. */
async function parleyToWormhole(name: string, size: number, noListen: boolean): Promise<JsonEvent[]> {
  const src = fileOf(name, size);
  const flag = noListen ? ["--no-listen"] : [];
  const s = await parleySend(src.path, flag);
  const dir = makeTempDir();
  const w = wormhole("wormhole-receive", ["receive", ...flag, "--accept-file", s.code], dir);
  w.endInput();
  expect(await s.cli.exitCode(LONG_MS)).toBe(0);
  expect(await w.exitCode(LONG_MS)).toBe(0);
  expect(readdirSync(dir)).toEqual([name]);
  expect(readFileSync(join(dir, name)).equals(src.bytes)).toBe(true);
  return events(s.cli);
}

/** One `connected` event, as a Parley peer's, for the plain peer: its path (and address), after the path event. */
function expectConnected(list: JsonEvent[], path: "direct" | "relay" | "mailbox", address?: string): void {
  const connected = list.filter((e) => e.type === "connected");
  expect(connected).toHaveLength(1);
  const event = connected[0] as JsonEvent;
  expect(event).toMatchObject({ path, verified: true, peer: { client: "wormhole" } });
  const peer = event.peer as { address?: unknown; client?: unknown };
  if (address !== undefined) expect(peer).toEqual({ client: "wormhole", address });
  if (path !== "mailbox") {
    expect(typeof peer.address).toBe("string");
    expect(list.findIndex((e) => e.type === "path")).toBeLessThan(list.indexOf(event));
  }
}

const UNICODE_NAME = "a name with spaces é 日本 😀.txt";

/** The UNICODE_NAME file of 100,000 bytes went through the transit relay, either way: done (SHA-256), path and connected. */
function expectUnicodeByRelay(list: JsonEvent[]): void {
  expect(list.find((e) => e.type === "done")).toMatchObject({
    name: UNICODE_NAME,
    bytes: 100_000,
    checksum: { algo: "sha256" },
  });
  const relay = `127.0.0.1:${kit.servers().relay.port}`;
  expect(list.find((e) => e.type === "path")).toMatchObject({ path: "relay", address: relay });
  expectConnected(list, "relay", relay);
}
// A name with spaces and unicode goes by the relay (--no-listen below): names are the same on either path.
const SMALL = [
  ["empty.bin", 0],
  ["one.bin", 1],
] as const;

describe.skipIf(!available)("wormhole send -> parley receive", () => {
  test("0 B, 1 B: byte for byte, direct", async () => {
    // The two at once (each with its own code): the clients' start-up is most of the time.
    const lists = await Promise.all(SMALL.map(([name, size]) => wormholeToParley(name, size, false)));
    for (const [i, [name, size]] of SMALL.entries()) {
      expect(lists[i]?.find((e) => e.type === "path")?.path).toBe("direct");
      expectConnected(lists[i] ?? [], "direct");
      expect(lists[i]?.find((e) => e.type === "done")).toMatchObject({
        name,
        bytes: size,
        checksum: { algo: "sha256" },
      });
    }
  }, 90_000);

  test("human lines: the path, then Receiving #1, as from a Parley peer", async () => {
    const src = fileOf("g.txt", 6);
    const w = wormhole("wormhole-send", ["send", "g.txt"], src.dir);
    const code = await wormholeCode(w);
    const dir = makeTempDir();
    const r = startCli("parley-receive", ["receive", code, ...mailbox(), "--dir", dir, "--no-progress"]);
    expect(await r.exitCode(LONG_MS), r.describe()).toBe(0);
    expect(await w.exitCode(LONG_MS)).toBe(0);
    // "Receiving #1 g.txt" came first: the offer comes through the mailbox before the transit.
    expect(r.linesMatching(/^(A plain wormhole client|Connected |Receiving #1 )/), r.describe()).toEqual([
      PLAIN_PEER_LINE,
      expect.stringMatching(/^Connected directly to \S+$/),
      "Receiving #1 g.txt (6 bytes).",
    ]);
    expect(readFileSync(join(dir, "g.txt")).equals(src.bytes)).toBe(true);
  }, 60_000);

  test("64 MiB random, direct", async () => {
    const list = await wormholeToParley("big.bin", 64 * 1024 * 1024, false);
    expect(list.find((e) => e.type === "done")?.bytes).toBe(64 * 1024 * 1024);
  }, 90_000);

  test("--no-listen on both ends, a name with spaces and unicode: through the transit relay", async () => {
    const list = await wormholeToParley(UNICODE_NAME, 100_000, true);
    expectUnicodeByRelay(list);
  }, 60_000);

  test("wormhole send --text -> parley receive --json: connected (through the mailbox), then the text as a chat event", async () => {
    const w = wormhole("wormhole-send", ["send", "--text", "hi from a script"], makeTempDir());
    const code = await wormholeCode(w);
    const r = startCli("parley-receive", ["receive", code, ...mailbox(), "--dir", makeTempDir(), "--json"]);
    expect(await r.exitCode(LONG_MS)).toBe(0);
    expect(await w.exitCode(LONG_MS)).toBe(0);
    const list = events(r);
    expectConnected(list, "mailbox");
    expect(list.find((e) => e.type === "chat")?.text).toBe("hi from a script");
    expect(list.findIndex((e) => e.type === "connected")).toBeLessThan(list.findIndex((e) => e.type === "chat"));
  }, 60_000);

  test("wormhole send --text: several lines arrive as several labelled lines; past 1 Mi characters, both sides told why", async () => {
    const lines = wormhole("wormhole-send", ["send", "--text", "first line\nsecond\n\nfourth ✓"], makeTempDir());
    // Past what the argument list holds: its text from stdin, as `wormhole send --text - < notes.txt`.
    const long = wormhole("wormhole-send", ["send", "--text", "-"], makeTempDir());
    long.proc.stdin.write("y".repeat(MAX_PLAIN_TEXT_CHARS + 1));
    long.endInput();
    const codes = await Promise.all([wormholeCode(lines), wormholeCode(long)]);
    const [r, rLong] = codes.map((code, i) =>
      startCli(`parley-receive-${i}`, ["receive", code, ...mailbox(), "--dir", makeTempDir()]),
    ) as [Cli, Cli];
    expect(await r.exitCode(30_000)).toBe(0);
    // It was one line, `<wormhole> first line^Jsecond^J^Jfourth ✓`.
    expect(r.linesMatching(/^<wormhole>/)).toEqual([
      "<wormhole> first line",
      "<wormhole> second",
      "<wormhole> ",
      "<wormhole> fourth ✓",
    ]);
    expect(await lines.exitCode(30_000)).toBe(0);
    expect(await rLong.exitCode(30_000)).toBe(3);
    // It was "the wormhole peer offered something unknown (message)", and "unknown offer type" there.
    expect(rLong.lines.filter((l) => l.startsWith("Error:"))).toEqual([
      `Error: the wormhole peer sent a text message of ${MAX_PLAIN_TEXT_CHARS + 1} characters, more than the ${MAX_PLAIN_TEXT_CHARS} Parley takes: ask them to send it as a file (wormhole send FILE).`,
    ]);
    expect(await long.exitCode(30_000)).not.toBe(0);
    expect(long.stderr).toContain(
      `text message too long (${MAX_PLAIN_TEXT_CHARS + 1} characters; Parley takes at most ${MAX_PLAIN_TEXT_CHARS}): send it as a file`,
    );
  }, 60_000);

  test("wormhole send --text of 50,000 blank lines between two: one line counts them", async () => {
    const w = wormhole("wormhole-send", ["send", "--text", "-"], makeTempDir());
    w.proc.stdin.write(`top${"\n".repeat(50_001)}bottom`);
    w.endInput();
    const r = startCli("parley-receive", ["receive", await wormholeCode(w), ...mailbox(), "--dir", makeTempDir()]);
    expect(await r.exitCode(30_000), r.describe()).toBe(0);
    expect(await w.exitCode(30_000)).toBe(0);
    // It was 50,000 lines of "<wormhole> " between them.
    expect(r.linesMatching(/^<wormhole>/)).toEqual([
      "<wormhole> top",
      "<wormhole> (50000 blank lines)",
      "<wormhole> bottom",
    ]);
  }, 60_000);

  test("a wrong code: one clear line, exit 2, nothing saved; the wormhole client fails too", async () => {
    const src = fileOf("x.bin", 10);
    const w = wormhole("wormhole-send", ["send", "x.bin"], src.dir);
    const nameplate = (await wormholeCode(w)).split("-")[0];
    const dir = makeTempDir();
    const r = startCli("parley-receive", ["receive", `${nameplate}-wrong-words`, ...mailbox(), "--dir", dir]);
    expect(await r.exitCode(30_000)).toBe(2);
    expect(r.lines.filter((l) => l.startsWith("Error:"))).toEqual([
      "Error: wrong code: the two sides' codes differ (a typo, or someone guessing), and a mailbox code is good for one try: start again for a new one.",
    ]);
    expect(await w.exitCode(30_000)).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe.skipIf(!available)("parley send -> wormhole receive", () => {
  test("0 B, 1 B: byte for byte, the ack's SHA-256 checked", async () => {
    const lists = await Promise.all(SMALL.map(([name, size]) => parleyToWormhole(name, size, false)));
    for (const [i, [name, size]] of SMALL.entries()) {
      expect(lists[i]?.find((e) => e.type === "done")).toMatchObject({
        name,
        bytes: size,
        checksum: { algo: "sha256" },
      });
    }
  }, 90_000);

  test("64 MiB random, direct; the sender's totals line", async () => {
    const src = fileOf("big.bin", 64 * 1024 * 1024);
    const s = startCli("parley-send", ["send", src.path, ...mailbox(), "--no-progress"]);
    const { match } = await s.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const dir = makeTempDir();
    const w = wormhole("wormhole-receive", ["receive", "--accept-file", match[1] as string], dir);
    w.endInput();
    expect(await s.exitCode(LONG_MS)).toBe(0);
    expect(await w.exitCode(LONG_MS)).toBe(0);
    expect(s.lines).toContain(
      `The transfer command is done. The sender has sent a total of ${64 * 1024 * 1024} bytes to the receiver.`,
    );
    expect(s.stdout).toMatch(/^Connected directly to /m);
    // As to a Parley peer: the path, then "Sending #1" (it came first, before the wormhole user
    // had answered); the peer said plain first, as receiving from one says it; the wait said.
    expect(s.linesMatching(/^(A plain wormhole client|Offered |Connected |Sending #1 )/), s.describe()).toEqual([
      PLAIN_PEER_LINE,
      "Offered big.bin; waiting for the wormhole receiver to accept it (it may ask its user first).",
      expect.stringMatching(/^Connected directly to \S+$/),
      "Sending #1 big.bin (64.0 MiB, 67108864 bytes).",
    ]);
    expect(readFileSync(join(dir, "big.bin")).equals(src.bytes)).toBe(true);
  }, 90_000);

  test("--limit-rate holds the send as to a Parley peer: 1.5 MiB at 512K takes over 2.8 s from the path, byte for byte", async () => {
    // review30: ignored here (the plain peer's sender had no limiter): sent 64 ms after `connected`.
    const src = fileOf("paced.bin", 1536 * 1024);
    const s = await parleySend(src.path, ["--limit-rate", "512K"]);
    const dir = makeTempDir();
    const w = wormhole("wormhole-receive", ["receive", "--accept-file", s.code], dir);
    w.endInput();
    await s.cli.waitForLine(/"type":"connected"/, LONG_MS);
    const connectedAt = performance.now();
    expect(await s.cli.exitCode(LONG_MS), s.cli.describe()).toBe(0);
    // Not a speed: a bound no machine beats (2.9 s at the least once the path stands). Unlimited,
    // 60-274 ms here with the receiver's ack; the margin is for that ack on a loaded machine.
    expect(performance.now() - connectedAt).toBeGreaterThanOrEqual(2_800);
    expect(await w.exitCode(LONG_MS)).toBe(0);
    expect(readFileSync(join(dir, "paced.bin")).equals(src.bytes)).toBe(true);
  }, 90_000);

  test("--limit-rate holds the chat's transfer to wormhole receive too", async () => {
    const src = fileOf("paced.bin", 1536 * 1024);
    const { chat, receiver, dir } = await chatJoinedByWormholeReceive(kit, ["--accept-file"], ["--limit-rate", "512K"]);
    chat.send(`transfer ${src.path}`);
    await chat.waitForLine(/^Sending #1 paced\.bin/, LONG_MS); // once the path stands
    const sendingAt = performance.now();
    expect(await receiver.exitCode(LONG_MS), receiver.describe()).toBe(0);
    expect(performance.now() - sendingAt).toBeGreaterThanOrEqual(2_800); // unlimited: 0.9 s, the receiver's exit in it
    expect(await chat.exitCode(LONG_MS), chat.describe()).toBe(0);
    expect(readFileSync(join(dir, "paced.bin")).equals(src.bytes)).toBe(true);
  }, 120_000);

  test("--no-listen on both ends, a name with spaces and unicode: through the transit relay", async () => {
    const list = await parleyToWormhole(UNICODE_NAME, 100_000, true);
    expectUnicodeByRelay(list);
    // The offer once the path stands, as to a Parley peer (it came before `connected`).
    expect(list.findIndex((e) => e.type === "offer")).toBeGreaterThan(list.findIndex((e) => e.type === "connected"));
  }, 60_000);

  test("a name of 255 bytes is offered cut to 240: the Python receiver, writing NAME.tmp, failed on it and parley send waited for ever", async () => {
    const src = fileOf(`${"n".repeat(251)}.bin`, 1000);
    const s = startCli("parley-send", ["send", src.path, ...mailbox(), "--no-progress"]);
    const { match } = await s.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const dir = makeTempDir();
    const w = wormhole("wormhole-receive", ["receive", "--accept-file", match[1] as string], dir);
    w.endInput();
    expect(await w.exitCode(30_000)).toBe(0); // was 1: "[Errno 36] File name too long"
    expect(await s.exitCode(30_000)).toBe(0);
    const stored = `${"n".repeat(236)}.bin`; // 240 bytes, the extension kept, as a Parley receiver stores it
    expect(readdirSync(dir)).toEqual([stored]);
    expect(readFileSync(join(dir, stored)).equals(src.bytes)).toBe(true);
    expect(s.lines).toContain(
      "The file's name is 255 bytes long, more than 240 (a wormhole receiver may fail to store it): it is offered cut to 240 bytes.",
    );
  }, 60_000);

  test("the wormhole user answers no: exit 3 with its reason, nothing written on its side", async () => {
    const src = fileOf("declined.bin", 1000);
    const s = await parleySend(src.path);
    const dir = makeTempDir();
    const w = wormhole("wormhole-receive", ["receive", s.code], dir);
    // It asks "ok? (Y/n): " on stdout (no newline) after this line on stderr.
    await w.waitForStderr(/Receiving file \(1\.0 kB\) into: declined\.bin/, 30_000);
    w.send("n");
    expect(await s.cli.exitCode(30_000)).toBe(3);
    expect(events(s.cli).find((e) => e.type === "error")).toMatchObject({
      code: "E_REJECTED",
      message: "the wormhole peer declined: transfer rejected",
    });
    expect(await w.exitCode(30_000)).not.toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  test("parley send of two files, or of standard input: its hint names no wormhole receive, and a wormhole receiver that joins is told why, as is the sender, with what to do", async () => {
    const src = fileOf("a.txt", 10);
    const b = join(src.dir, "b.txt");
    writeFileSync(b, "b");
    const cases = [
      {
        args: [src.path, b],
        peer: "the sender has 2 files or folders to send, and a wormhole client takes one per code",
        ours: "Error: a plain wormhole client takes one file or folder per code, not 2: send them one at a time, each with its own code (or put them in a folder and send that), or have the peer run parley receive.",
      },
      {
        args: ["-", "--name", "x.txt"],
        peer: "the sender is sending its standard input, and a wormhole client takes a file of known size",
        ours: "Error: a plain wormhole client cannot take standard input (it takes a file of known size): save it to a file and send that, or have the peer run parley receive.",
      },
    ];
    const one = async ({ args, peer, ours }: (typeof cases)[number]): Promise<void> => {
      const s = startCli("parley-send", ["send", ...args, ...mailbox()]);
      // Before: "..., or wormhole receive CODE", which then failed.
      const { match } = await s.waitForLine(
        /^Waiting for the peer: PARLEY_CODE=(\S+) parley receive \(with the same mailbox\)(.*)$/,
      );
      expect(match[2], s.describe()).toBe("");
      const dir = makeTempDir();
      const w = wormhole("wormhole-receive", ["receive", "--accept-file", match[1] as string], dir);
      w.endInput();
      expect(await s.exitCode(30_000), s.describe()).toBe(3);
      expect(
        s.lines.filter((l) => l.startsWith("Error:")),
        s.describe(),
      ).toEqual([ours]);
      expect(await w.exitCode(30_000)).not.toBe(0);
      expect(w.stderr, w.describe()).toContain(peer);
      expect(readdirSync(dir)).toEqual([]);
    };
    await Promise.all(cases.map(one));
  }, 60_000);
});

describe.skipIf(!available)("text with a plain wormhole client", () => {
  test("a line typed in the chat arrives as wormhole receive's text; the chat says the session is over, once", async () => {
    const { chat: a, receiver: w } = await chatJoinedByWormholeReceive(kit);
    // The hint names what transfer can send it: a folder goes too (as a zip).
    await a.waitForLine(
      /^It may send something now; .* transfer PATH to send it one file or folder \(its session then ends\)\.$/,
    );
    a.send("hello wormhole, from parley");
    expect(await w.exitCode(30_000)).toBe(0);
    expect(w.stdout).toBe("hello wormhole, from parley\n");
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    // Before: this line, then "The wormhole peer's session is over." as well.
    const over = a.lines.filter((l) => l.includes("session is over"));
    expect(over).toEqual(["Text message sent; the wormhole peer's session is over (it takes one message per code)."]);
  }, 60_000);

  test("parley send --text -> wormhole receive: the text on its stdout; connected through the mailbox", async () => {
    const s = startCli("parley-send", ["send", "--text", "build 1234 is green ✓", ...mailbox(), "--json"]);
    const code = await parleyCode(s);
    const w = wormhole("wormhole-receive", ["receive", code], makeTempDir());
    w.endInput();
    expect(await w.exitCode(30_000)).toBe(0);
    expect(w.stdout).toBe("build 1234 is green ✓\n");
    expect(await s.exitCode(30_000)).toBe(0);
    expectConnected(events(s), "mailbox");
  }, 60_000);

  test("parley send --text -> parley receive (a Parley peer): one chat event, both exit 0", async () => {
    const s = startCli("parley-send", ["send", "--text", "hello from a script", ...mailbox(), "--json"]);
    const code = await parleyCode(s);
    const r = startCli("parley-receive", ["receive", code, ...mailbox(), "--dir", makeTempDir(), "--json"]);
    expect(await r.exitCode(30_000)).toBe(0);
    expect(await s.exitCode(30_000)).toBe(0);
    expect(events(r).filter((e) => e.type === "chat")).toEqual([{ type: "chat", text: "hello from a script" }]);
    expect(events(r).find((e) => e.type === "bye")?.reason).toBe("done"); // the sender left when done, and said so
  }, 60_000);

  test("transfer PATH in the chat sends one file to wormhole receive", async () => {
    const src = fileOf(UNICODE_NAME, 5000);
    const { chat: a, receiver: w, dir } = await chatJoinedByWormholeReceive(kit, ["--accept-file"]);
    a.send(`transfer ${src.path}`);
    expect(await w.exitCode(30_000)).toBe(0);
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    expect(a.lines).toContain(
      "The transfer command is done. The sender has sent a total of 5000 bytes to the receiver.",
    );
    expect(readFileSync(join(dir, UNICODE_NAME)).equals(src.bytes)).toBe(true);
  }, 60_000);

  test("transfer DIR/*.bin in the chat sends the one file it names to wormhole receive", async () => {
    const src = fileOf("one.bin", 700);
    writeFileSync(join(src.dir, "other.txt"), "not this");
    const { chat: a, receiver: w, dir } = await chatJoinedByWormholeReceive(kit, ["--accept-file"]);
    // Its folder is read off the chat's turn, then the one file goes as a typed path would.
    a.send(`transfer ${src.dir}/*.bin`);
    expect(await w.exitCode(30_000)).toBe(0);
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    expect(readFileSync(join(dir, "one.bin")).equals(src.bytes)).toBe(true);
  }, 60_000);

  test.each([
    ["a path", "one.bin"],
    ["a wildcard", "*.bin"],
  ])(
    "a script's transfer (%s) to wormhole receive, then its input's end: the file goes, then the chat exits 0",
    async (_what, name) => {
      const src = fileOf("one.bin", 700);
      const { chat: a, receiver: w, dir } = await chatJoinedByWormholeReceive(kit, ["--accept-file"]);
      // Before: the end of input came as if no peer were there ("End of input before a peer
      // connected: nothing was sent. Bye.", exit 0), the transfer cut off and the receiver waiting.
      a.send(`transfer ${src.dir}/${name}`);
      a.endInput();
      expect(await w.exitCode(30_000)).toBe(0);
      expect(await a.exitCode(WAIT_MS)).toBe(0);
      expect(readFileSync(join(dir, "one.bin")).equals(src.bytes)).toBe(true);
      expect(a.lines).toContain(
        "The transfer command is done. The sender has sent a total of 700 bytes to the receiver.",
      );
      expect(a.lines.filter((line) => line.includes("nothing was sent"))).toEqual([]);
    },
    60_000,
  );

  test("exit typed while the wormhole receiver is still at its question: said, and the file goes once it answers", async () => {
    const src = fileOf("one.bin", 700);
    const a = startCli("alice", [...mailbox(), "--no-progress", "--dir", makeTempDir()]);
    const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const dir = makeTempDir();
    const w = wormhole("wormhole-receive", ["receive", match[1] as string], dir); // it asks its user
    await a.waitForLine(/^A plain wormhole client \(not Parley\) joined/, 30_000);
    a.send(`transfer ${src.path}`);
    await a.waitForLine(/^Offered one\.bin; waiting for the wormhole receiver to accept it/, 30_000);
    // Before: "Bye." at once, exit 0, the transfer given up and the receiver left at its question.
    a.send("exit");
    a.endInput();
    await a.waitForLine(/^Waiting for the transfer with the wormhole peer to finish before leaving \(Ctrl-C/, WAIT_MS);
    w.send("y");
    w.endInput();
    expect(await w.exitCode(30_000)).toBe(0);
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    expect(readFileSync(join(dir, "one.bin")).equals(src.bytes)).toBe(true);
    expect(a.linesMatching(/^Waiting for the transfer with the wormhole peer/)).toHaveLength(1); // exit, then the end: once
    expect(a.linesMatching(/Bye\.$/)).toEqual([]);
  }, 60_000);

  test("the chat joins wormhole send FILE's code: the file is saved, and no hint to type a text line first", async () => {
    const src = fileOf("from-sender.bin", 2000);
    const w = wormhole("wormhole-send", ["send", "from-sender.bin"], src.dir);
    const code = await wormholeCode(w);
    const dir = makeTempDir();
    const a = startCli("alice", [...mailbox(), "--no-progress", "--dir", dir]);
    await a.waitForLine(/^Waiting in the mailbox · code \S+$/, 30_000);
    a.send(code);
    expect(await w.exitCode(30_000)).toBe(0);
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    expect(readFileSync(join(dir, "from-sender.bin")).equals(src.bytes)).toBe(true);
    expect(a.lines).toContain(PLAIN_PEER_LINE);
    // Before: "It may send something now; or type a line to send it as a text message, ..." came
    // at once, for a peer whose file was on its way.
    expect(a.linesMatching(/type a line to send it as a text message/)).toEqual([]);
  }, 60_000);

  test("wormhole send FILE into the chat's code: the file is saved, the receiver's totals line", async () => {
    const src = fileOf("to-chat.bin", 3000);
    const dir = makeTempDir();
    const a = startCli("alice", [...mailbox(), "--no-progress", "--dir", dir]);
    const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\S+)$/, 30_000);
    const w = wormhole("wormhole-send", ["send", "--code", match[1] as string, "to-chat.bin"], src.dir);
    expect(await w.exitCode(30_000)).toBe(0);
    expect(await a.exitCode(WAIT_MS)).toBe(0);
    expect(a.lines).toContain(
      "The transfer command is done. The receiver has received a total of 3000 bytes from the sender.",
    );
    expect(
      a.linesMatching(
        /^Saved .*to-chat\.bin, without a checksum from the sender to compare \(ours: SHA-256 [0-9a-f]{64}\)\.$/,
      ),
    ).toHaveLength(1);
    expect(a.linesMatching(/checksum matched/)).toEqual([]);
    expect(readFileSync(join(dir, "to-chat.bin")).equals(src.bytes)).toBe(true);
  }, 60_000);
});
