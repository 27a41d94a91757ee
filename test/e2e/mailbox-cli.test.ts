/**
 * The mailbox flow through the real CLI, against magic-wormhole's mailbox server and transit
 * relay on 127.0.0.1 (one pair for the file; the relay-killed test has its own relay): 64 MiB
 * byte for byte on the direct path and through the relay (--no-listen), chat both ways, a wrong
 * code, a third claimant, servers that are down, a relay killed mid-transfer then a resume with
 * a new code, and a plain wormhole client's text.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { WormholeServer } from "../wormhole-servers.ts";
import {
  Cli,
  cleanup,
  closedPort,
  makeTempDir,
  PARLEY,
  PARLEY_SHELL,
  shellWords,
  startCli,
  WAIT_MS,
} from "./helpers.ts";
import { events, type JsonEvent, parleyCode, useWormholeServers } from "./wormhole-kit.ts";

const kit = useWormholeServers("mailbox CLI tests (test/e2e/mailbox-cli.test.ts)");
const { available, mailbox } = kit;
afterEach(cleanup);

/** `parley receive --json` with a mailbox, once it has its code. */
async function receiver(dir: string, extra: string[] = [], servers_ = mailbox()): Promise<{ cli: Cli; code: string }> {
  const cli = startCli("receiver", ["receive", ...servers_, "--dir", dir, "--json", ...extra]);
  return { cli, code: await parleyCode(cli) };
}

function bigFile(bytes: number): string {
  const path = join(makeTempDir(), "big.bin");
  writeFileSync(path, randomBytes(bytes));
  return path;
}

async function sendAndCompare(extra: string[]): Promise<{ recv: JsonEvent[]; send: JsonEvent[] }> {
  const path = bigFile(64 * 1024 * 1024);
  const dir = makeTempDir();
  const r = await receiver(dir, extra);
  expect(r.code).toMatch(/^\d+-[a-z]+-[a-z]+$/);
  const s = startCli("sender", ["send", path, "--to", r.code, ...mailbox(), "--json", ...extra]);
  expect(await s.exitCode(60_000)).toBe(0);
  expect(await r.cli.exitCode(WAIT_MS)).toBe(0);
  expect(readFileSync(join(dir, "big.bin")).equals(readFileSync(path))).toBe(true);
  return { recv: events(r.cli), send: events(s) };
}

const pathOf = (list: JsonEvent[]) => list.find((e) => e.type === "path");
/** What an unknown nameplate's line says to do. */
const NAMEPLATE_NEXT =
  ": check the code with the peer (a mailbox code is gone once used, or once the side that made it has left; both sides need the same mailbox server)";
const connectedOf = (list: JsonEvent[]) => list.find((e) => e.type === "connected");

describe.skipIf(!available)("parley through a mailbox (real servers)", () => {
  test("64 MiB byte for byte on the direct path; both sides say so", async () => {
    const { recv, send } = await sendAndCompare([]);
    expect(pathOf(recv)?.path).toBe("direct");
    expect(pathOf(send)?.path).toBe("direct");
    expect(connectedOf(recv)?.path).toBe("direct");
    expect(connectedOf(send)?.path).toBe("direct");
  }, 90_000);

  test("--no-listen on both sides: 64 MiB through the transit relay, its address reported", async () => {
    const { recv, send } = await sendAndCompare(["--no-listen"]);
    const relay = `127.0.0.1:${kit.servers().relay.port}`;
    expect(pathOf(recv)).toMatchObject({ path: "relay", address: relay });
    expect(pathOf(send)).toMatchObject({ path: "relay", address: relay });
    // Its peer.address is the relay's: the event says so itself (it did not), as a plain wormhole peer's does.
    for (const side of [recv, send])
      expect(connectedOf(side)).toMatchObject({ path: "relay", peer: { address: relay } });
  }, 90_000);

  test("--no-listen, human lines: each side says the peer's connection is through the relay, not that the peer is at its address", async () => {
    const dir = makeTempDir();
    const r = startCli("receiver", ["receive", ...mailbox(), "--no-listen", "--no-progress", "--dir", dir]);
    const { match } = await r.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/);
    const s = startCli("sender", ["send", bigFile(1000), "--to", match[1] as string, ...mailbox(), "--no-listen"]);
    expect(await s.exitCode(), s.describe()).toBe(0);
    expect(await r.exitCode(), r.describe()).toBe(0);
    const relay = `127.0.0.1:${kit.servers().relay.port}`;
    for (const side of [r, s]) {
      // It said "Connected to peer at <the relay's address>", as if the peer were there; then, a
      // line before it, "Connected through the relay <address>": the same news twice.
      expect(side.linesMatching(/^Connected /), side.describe()).toEqual([
        `Connected to peer through the relay at ${relay} (encrypted, verified by the code).`,
      ]);
    }
  }, 30_000);

  test("the direct path, human lines: one connected line on each side says who and the path", async () => {
    // Before: "Connected directly to X", then "Connected to peer at X (encrypted, ...)", the same
    // news twice (the chat's was made one line in 85cba40).
    const dir = makeTempDir();
    const r = startCli("receiver", ["receive", ...mailbox(), "--no-progress", "--dir", dir]);
    const { match } = await r.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/);
    const path = bigFile(1000);
    const s = startCli("sender", ["send", path, "--to", match[1] as string, ...mailbox()]);
    expect(await s.exitCode(), s.describe()).toBe(0);
    expect(await r.exitCode(), r.describe()).toBe(0);
    expect(readFileSync(join(dir, "big.bin")).equals(readFileSync(path))).toBe(true);
    // One side dialed the other's hint: it names the port it dialed; the side dialed names the
    // dialer's host alone (its port was one the dialer's system picked for the connection).
    const lines = [r, s].map((side) => side.linesMatching(/^Connected /));
    const host = /^Connected to peer directly at [\d.]+ \(encrypted, verified by the code\)\.$/;
    const hostAndPort = /^Connected to peer directly at [\d.]+:\d+ \(encrypted, verified by the code\)\.$/;
    const said = (re: RegExp) => lines.filter((one) => one.length === 1 && re.test(one[0] as string)).length;
    expect([said(host), said(hostAndPort)], `${r.describe()}\n${s.describe()}`).toEqual([1, 1]);
  }, 30_000);

  test.each(["receive", "send"] as const)(
    "a %s waiting in the mailbox: its hint, run as it says with the same mailbox, meets it, and no note says the code shows in ps",
    async (waiting) => {
      // It said `parley send <paths> --to CODE` (`parley receive CODE`): the code on the command
      // line, and the command's first line said other users can see it there.
      const dir = makeTempDir();
      const path = bigFile(1000);
      const first = startCli("waiting", [waiting, ...(waiting === "receive" ? ["--dir", dir] : [path]), ...mailbox()]);
      const { match } = await first.waitForLine(/^Waiting for the peer: (.*) \(with the same mailbox\), or wormhole /);
      const run = [
        (match[1] as string).replace(/\bparley\b/, PARLEY_SHELL).replace("<paths>", shellWords([path])),
        shellWords(mailbox()),
        waiting === "send" ? `--dir ${shellWords([dir])}` : "",
      ].join(" ");
      const second = new Cli("follower", [], ["bash", "-c", run]);
      expect(await second.exitCode(), second.describe()).toBe(0);
      expect(await first.exitCode(), first.describe()).toBe(0);
      expect(readFileSync(join(dir, "big.bin")).equals(readFileSync(path))).toBe(true);
      expect(`${second.lines.join("\n")}\n${second.stderr}`).not.toMatch(/Note: the code is on this command line/);
    },
    30_000,
  );

  test("a relay named by its host name (localhost): the session's line still says it goes through the relay, in the chat too", async () => {
    // The path's address is the relay as named (localhost:PORT), the connection's the one dialed
    // (127.0.0.1:PORT): the reporter compared the two and said "Connected to peer at 127.0.0.1:PORT",
    // as if the peer were there, and the chat found no path line for it.
    const port = kit.servers().relay.port;
    const named = ["--relay-url", kit.servers().mailboxUrl, "--transit-helper", `tcp:localhost:${port}`, "--no-listen"];
    const dir = makeTempDir();
    const r = startCli("receiver", ["receive", ...named, "--no-progress", "--dir", dir]);
    const { match } = await r.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/);
    const s = startCli("sender", ["send", bigFile(1000), "--to", match[1] as string, ...named]);
    expect(await s.exitCode(), s.describe()).toBe(0);
    expect(await r.exitCode(), r.describe()).toBe(0);
    for (const side of [r, s]) {
      // One line, the relay as named, as the chat's below (before: the path line said
      // localhost:PORT, then the connected line 127.0.0.1:PORT).
      expect(side.linesMatching(/^Connected /), side.describe()).toEqual([
        `Connected to peer through the relay at localhost:${port} (encrypted, verified by the code).`,
      ]);
    }
    const a = startCli("alice", [...named, "--name", "alice", "--no-progress", "--dir", makeTempDir()]);
    const code = (await a.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/)).match[1] as string;
    const b = startCli("bob", [...named, "--name", "bob", "--no-progress", "--dir", makeTempDir()]);
    await b.waitForLine(/^Waiting in the mailbox · code /);
    b.send(code);
    await b.waitForLine(/^Connected to alice /);
    await a.waitForLine(/^Connected to bob /);
    b.send("exit");
    expect(await a.exitCode()).toBe(0);
    expect(await b.exitCode()).toBe(0);
    for (const [side, peer] of [
      [a, "bob"],
      [b, "alice"],
    ] as const) {
      // One line says who and the path (the relay as named); before, "Connected through the relay
      // localhost:PORT" came first, the same news.
      expect(side.linesMatching(/^Connected /), side.describe()).toEqual([
        `Connected to ${peer} through the relay at localhost:${port}. Type a message and press Enter; "help" lists commands.`,
      ]);
    }
  }, 60_000);

  test("chat both ways: one side shows a code, the other types it; a third claimant is refused", async () => {
    const a = startCli("alice", [...mailbox(), "--name", "alice", "--no-progress", "--dir", makeTempDir()]);
    const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/);
    const code = match[1] as string;
    const b = startCli("bob", [...mailbox(), "--name", "bob", "--no-progress", "--dir", makeTempDir()]);
    await b.waitForLine(/^Waiting in the mailbox · code /);
    b.send(code);
    await Promise.all([
      a.waitForLine(/^Connected to bob (directly|through the relay) at \S+\. /),
      b.waitForLine(/^Connected to alice (directly|through the relay) at \S+\. /),
    ]);
    a.send("hello bob");
    await b.waitForLine(/^<alice> hello bob$/);
    b.send("hi alice");
    await a.waitForLine(/^<bob> hi alice$/);
    const third = await startCli("third", ["receive", code, ...mailbox(), "--dir", makeTempDir()]);
    expect(await third.exitCode(WAIT_MS)).toBe(2);
    // Before session 30 the line ended at "(nameplate taken)": nothing said what to do, nor that a
    // stranger holding the number (the side that made the code is never told) is why.
    expect(third.linesMatching(/^Error: /), third.describe()).toEqual([
      "Error: that code is already in use by two others (nameplate taken): someone typed it before you (if not your peer, someone else who took its number), so it cannot be used; ask your peer to start again for a new code.",
    ]);
    a.send("still here");
    await b.waitForLine(/^<alice> still here$/);
    a.send("exit");
    expect(await a.exitCode()).toBe(0);
    expect(await b.exitCode()).toBe(0);
  }, 60_000);

  test("both type each other's code at once: one connection, chat both ways", async () => {
    // Before: each let go of its own code before joining the other's, so each found the other's
    // gone: "no one is waiting with that code (unknown nameplate)" on both sides, exit 2.
    const chat = (name: string) =>
      startCli(name, [...mailbox(), "--name", name, "--no-progress", "--no-listen", "--dir", makeTempDir()]);
    const [a, b] = [chat("alice"), chat("bob")];
    const shown = /^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/;
    const [codeA, codeB] = await Promise.all([a.waitForLine(shown), b.waitForLine(shown)]);
    a.send(codeB.match[1] as string);
    b.send(codeA.match[1] as string);
    await Promise.all([
      a.waitForLine(/^Connected to bob through the relay at /),
      b.waitForLine(/^Connected to alice through the relay at /),
    ]);
    a.send("hello bob");
    await b.waitForLine(/^<alice> hello bob$/);
    b.send("hi alice");
    await a.waitForLine(/^<bob> hi alice$/);
    b.send("exit");
    expect(await a.exitCode()).toBe(0);
    expect(await b.exitCode()).toBe(0);
    for (const side of [a, b]) {
      // --no-listen on both: through the relay, which the session's line says (it said "at" the relay's address).
      // One line, the session's path in it: both meetings may find a path, and no other is said.
      const relay = `127.0.0.1:${kit.servers().relay.port}`;
      expect(side.linesMatching(/^Connected /), side.stdout).toEqual([
        expect.stringMatching(new RegExp(`^Connected to (alice|bob) through the relay at ${relay}\\. `)),
      ]);
    }
  }, 30_000);

  test("a wrong code: both sides say wrong code, exit 2, nothing saved", async () => {
    const dir = makeTempDir();
    const r = await receiver(dir);
    const nameplate = r.code.split("-")[0];
    const s = startCli("sender", ["send", bigFile(1024), "--to", `${nameplate}-wrong-words`, ...mailbox()]);
    expect(await s.exitCode()).toBe(2);
    // Both sides say the code is used up (before: "Error: wrong code." and nothing more, also on the
    // side that made the code and typed nothing, which could not tell that it must start again).
    const words =
      "wrong code: the two sides' codes differ (a typo, or someone guessing), and a mailbox code is good for one try: start again for a new one";
    expect(s.lines).toContain(`Error: ${words}.`);
    expect(await r.cli.exitCode()).toBe(2);
    expect(events(r.cli).find((e) => e.type === "error")).toMatchObject({ code: "E_WRONG_CODE", message: words });
    expect(readdirSync(dir)).toEqual([]);
  }, 30_000);

  test.each(["SIGINT", "SIGHUP", "SIGTERM"] as const)(
    "%s while waiting in the mailbox lets go of the code: a peer joining it later hears it is unknown, not a wait for ever",
    async (signal) => {
      const r = await receiver(makeTempDir());
      r.cli.kill(signal);
      expect(await r.cli.exitCode()).toBe({ SIGINT: 130, SIGHUP: 129, SIGTERM: 143 }[signal]);
      expect(r.cli.stderr).not.toContain("Error:");
      const late = startCli("sender", ["send", bigFile(10), "--to", r.code, ...mailbox()]);
      expect(await late.exitCode(), late.describe()).toBe(2);
      // And what to do: it said only "no one is waiting with that code (unknown nameplate)".
      expect(late.lines).toContain(`Error: no one is waiting with that code (unknown nameplate)${NAMEPLATE_NEXT}.`);
    },
  );

  test("a direct Parley's code joined through a mailbox: the unknown nameplate's line says the peer meets directly (receive, and the chat's)", async () => {
    // The peer started without a mailbox: its code is a port and two words of the direct list.
    const direct = startCli("direct", ["receive", "--dir", makeTempDir()]);
    const { match } = await direct.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\d+-[a-z]+-[a-z]+)$/);
    const code = match[1] as string;
    const hint = `; ${code} looks like the code of a Parley that meets directly, not through a mailbox: start both sides with the same --relay or --relay-url, or both without`;
    const joiner = startCli("joiner", ["receive", code, ...mailbox(), "--dir", makeTempDir()]);
    expect(await joiner.exitCode()).toBe(2);
    // Before: "Error: no one is waiting with that code (unknown nameplate)." and nothing more.
    expect(joiner.lines.filter((l) => l.startsWith("Error"))).toEqual([
      `Error: no one is waiting with that code (unknown nameplate)${hint}.`,
    ]);
    const chat = startCli("chat", [...mailbox(), "--dir", makeTempDir()]);
    await chat.waitForLine(/^Waiting in the mailbox · code /);
    chat.send(code.replaceAll("-", " ")); // as read out
    await chat.waitForLine(/^Error: no one is waiting with that code/);
    chat.endInput();
    expect(await chat.exitCode()).toBe(2);
    expect(chat.lines.filter((l) => l.startsWith("Error"))).toEqual([
      `Error: no one is waiting with that code (unknown nameplate)${hint}`,
    ]);
    direct.proc.kill("SIGTERM");
    await direct.exitCode();
  }, 60_000);

  test("an unknown nameplate, a mailbox that is down, a relay that is down, no path: one line each, exit 2", async () => {
    const closed = `ws://127.0.0.1:${closedPort()}/v1`;
    // The mailbox's address without its /v1: what answers is a web page, not a mailbox (the
    // wormhole client says only "WebSocket connection upgrade failed [200]").
    const bare = kit.servers().mailboxUrl.replace(/\/v1$/, "");
    const relayPort = `ws://127.0.0.1:${kit.servers().relay.port}/v1`;
    const cases: Array<[string[], string]> = [
      [
        ["receive", "99999-crossover-clockwork", ...mailbox()],
        `Error: no one is waiting with that code (unknown nameplate)${NAMEPLATE_NEXT}.`,
      ],
      [
        ["receive", "--relay-url", closed],
        `Error: cannot reach the mailbox server: ${closed} refused the connection (nothing listens there).`,
      ],
      [
        ["receive", "--relay-url", bare],
        `Error: cannot reach the mailbox server: ${bare} answered HTTP 200, not as a WebSocket: a mailbox URL ends in /v1 (${bare}/v1).`,
      ],
      [
        ["receive", "--relay-url", relayPort],
        `Error: cannot reach the mailbox server: what answers at ${relayPort} is not a web server (the transit relay's port? the mailbox is the other one).`,
      ],
    ];
    // Each case its own processes, all at once: none waits on another's.
    const one = async ([args, line]: [string[], string]): Promise<void> => {
      const cli = startCli("one", [...args, "--dir", makeTempDir()]);
      expect(await cli.exitCode()).toBe(2);
      expect(cli.lines.filter((l) => l.startsWith("Error"))).toEqual([line]);
      expect(cli.stderr).toBe("");
    };
    const pair = async ([helper, code]: readonly [readonly string[], string]): Promise<void> => {
      const url = ["--relay-url", kit.servers().mailboxUrl, ...helper, "--no-listen"];
      const r = await receiver(makeTempDir(), [], url);
      const s = startCli("sender", ["send", bigFile(10), "--to", r.code, ...url, "--json"]);
      for (const cli of [r.cli, s]) {
        expect(await cli.exitCode(WAIT_MS)).toBe(2);
        const error = events(cli).find((e) => e.type === "error");
        expect(error?.code).toBe(code);
        // Said once: "cannot reach the transit relay 127.0.0.1:N: why", not "...: cannot reach the transit
        // relay ..."; and why (it said only the address, where the mailbox's line said "nothing listens there").
        expect(error?.message).toMatch(
          /^(cannot reach the transit relay 127\.0\.0\.1:\d+: it refused the connection \(nothing listens there\)|no way to reach the peer: [^:]+)$/,
        );
      }
    };
    const pairs = [
      [["--transit-helper", `tcp:127.0.0.1:${closedPort()}`], "E_RELAY_UNREACHABLE"],
      [[], "E_NO_PATH"],
    ] as const;
    await Promise.all([...cases.map(one), ...pairs.map(pair)]);
  }, 60_000);

  test("a mailbox code on the command line is said to be visible (ps), as in the direct flow; PARLEY_CODE is not", async () => {
    const note =
      "Note: the code is on this command line, which other users of this machine can see (ps); PARLEY_CODE or --code-file keep it private.";
    const onArgv = [
      startCli("receive", ["receive", "99999-crossover-clockwork", ...mailbox(), "--dir", makeTempDir()]),
      startCli("send", ["send", "--text", "hi", "--to", "99999-crossover-clockwork", ...mailbox()]),
      startCli("chat", ["--connect", "99999-crossover-clockwork", ...mailbox(), "--dir", makeTempDir()]),
    ];
    for (const cli of onArgv) {
      cli.endInput();
      expect(await cli.exitCode()).toBe(2);
      expect(
        cli.lines.filter((l) => l.startsWith("Note:")),
        cli.describe(),
      ).toEqual([note]);
    }
    const cli = new Cli(
      "receive",
      [],
      ["env", "PARLEY_CODE=99999-crossover-clockwork", ...PARLEY, "receive", ...mailbox(), "--dir", makeTempDir()],
    );
    expect(await cli.exitCode()).toBe(2);
    expect(cli.stdout).not.toContain("Note:");
  }, 30_000);

  test("the relay killed mid-transfer: both sides fail clearly, the .part stays; the same send with a new code resumes", async () => {
    const relay = await WormholeServer.start("transitrelay");
    try {
      const own = ["--relay-url", kit.servers().mailboxUrl, "--transit-helper", `tcp:127.0.0.1:${relay.port}`];
      const path = bigFile(64 * 1024 * 1024);
      const dir = makeTempDir();
      const r = await receiver(dir, ["--no-listen"], own);
      const args = ["send", path, "--to", r.code, ...own, "--no-listen", "--json", "--limit-rate", "16M"];
      const s = startCli("sender", args);
      await r.cli.waitForLine(/"type":"progress".*"bytes":([1-9]\d{6,})/, 30_000);
      relay.proc.kill("SIGKILL");
      expect(await s.exitCode()).toBe(3);
      expect(await r.cli.exitCode()).toBe(3);
      expect(events(r.cli).some((e) => e.type === "error")).toBe(true);
      // Neither side blames the peer, which is still there: the relay went away, and either may have.
      const lost = new RegExp(
        `^connection lost: the connection through the relay 127\\.0\\.0\\.1:${relay.port} (closed|was cut) without a goodbye from the peer \\(the relay or the peer went away\\)`,
      );
      for (const cli of [s, r.cli]) {
        const said = events(cli).filter((e) => e.code === "E_CONNECTION");
        expect(said.length, cli.describe()).toBeGreaterThan(0);
        for (const e of said) expect(String(e.message), cli.describe()).toMatch(lost);
      }
      expect(readdirSync(dir).some((n) => n.endsWith(".part"))).toBe(true);

      const again = await receiver(dir, ["--no-listen"]);
      const resumed = startCli("sender", ["send", path, "--to", again.code, ...mailbox(), "--no-listen", "--json"]);
      expect(await resumed.exitCode(60_000)).toBe(0);
      expect(await again.cli.exitCode()).toBe(0);
      const done = events(again.cli).find((e) => e.type === "done");
      expect(done?.resumedFrom as number).toBeGreaterThan(0);
      expect(readFileSync(join(dir, "big.bin")).equals(readFileSync(path))).toBe(true);
      expect(existsSync(join(dir, "big.bin.part"))).toBe(false);
    } finally {
      await relay.stop();
    }
  }, 120_000);
});

const wormholeClient = available && Bun.which("wormhole") !== null;
if (available && !wormholeClient) {
  if (process.env.PARLEY_REQUIRE_WORMHOLE === "1") throw new Error("PARLEY_REQUIRE_WORMHOLE=1 but no wormhole client");
  console.warn(
    "\n*** SKIPPED: plain wormhole client tests: the wormhole client (Debian magic-wormhole) is missing ***\n",
  );
}

describe.skipIf(!wormholeClient)("a plain wormhole client joins a Parley code", () => {
  const wormholeSend = (code: string, text: string) =>
    Bun.spawn(["wormhole", "--relay-url", kit.servers().mailboxUrl, "send", "--text", text, "--code", code], {
      stdout: "pipe",
      stderr: "pipe",
    });

  test("its text is a chat line in bun run chat", async () => {
    const a = startCli("alice", [...mailbox(), "--no-progress", "--dir", makeTempDir()]);
    const { match } = await a.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/);
    const w = wormholeSend(match[1] as string, "hello from wormhole");
    await a.waitForLine(/^A plain wormhole client \(not Parley\) joined/, 30_000);
    await a.waitForLine(/^<wormhole> hello from wormhole$/);
    expect(await a.exitCode(30_000)).toBe(0);
    expect(await w.exited).toBe(0);
  }, 60_000);

  test("its text in parley receive is labelled <wormhole>, as in the chat (it was <peer>)", async () => {
    const cli = startCli("receiver", ["receive", ...mailbox(), "--dir", makeTempDir()]);
    const { match } = await cli.waitForLine(/^Waiting in the mailbox · code (\d+-[a-z]+-[a-z]+)$/, 30_000);
    const w = wormholeSend(match[1] as string, "text for a person");
    expect(await cli.exitCode(30_000)).toBe(0);
    expect(await w.exited).toBe(0);
    expect(cli.linesMatching(/text for a person/)).toEqual(["<wormhole> text for a person"]);
  }, 60_000);

  test("its text is what parley receive --stdout writes", async () => {
    const cli = startCli("receiver", ["receive", "--stdout", ...mailbox()]);
    await cli.waitForStderr(/code (\d+-[a-z]+-[a-z]+)/);
    const code = (/code (\d+-[a-z]+-[a-z]+)/.exec(cli.stderr) as RegExpExecArray)[1] as string;
    const w = wormholeSend(code, "text for stdout");
    expect(await cli.exitCode(30_000)).toBe(0);
    expect(cli.stdout).toBe("text for stdout\n");
    expect(cli.stderr).toContain("A plain wormhole client (not Parley) joined");
    expect(await w.exited).toBe(0);
  }, 60_000);
});
