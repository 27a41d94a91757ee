/**
 * Commands run in-process with injected io (issue 12.5): no subprocess, the streams, working
 * directory, environment and signals are the test's own.
 */

import { expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/cli.ts";
import { type TestIo, testIo } from "../in-process-io.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("parley-inproc-");

test("help and usage errors: written to the injected streams, exit codes returned", async () => {
  const io = testIo(tempDir());
  expect(await runCli(["--help"], io)).toBe(0);
  expect(io.out.text).toStartWith("Parley: chat and send files");
  const bad = testIo(tempDir());
  expect(await runCli(["send", "--frobnicate"], bad)).toBe(1);
  expect(bad.err.text).toBe(
    "parley: unknown option --frobnicate\nUsage: parley send (<paths...> | --text TEXT) [--to CODE] [options]   (parley send --help lists the options)\n",
  );
});

test("--help under the chat script (`npx bun run chat --help`) shows the chat's options, not the commands' overview", async () => {
  // Before: the overview in `parley ...` words, which lists no chat option (--dir, --name, --connect).
  const io = testIo(tempDir());
  const chatScript = { ...io, env: { npm_lifecycle_event: "chat" } };
  expect(await runCli(["--help"], chatScript)).toBe(0);
  expect(io.out.text).toStartWith("Parley chat: ");
  expect(io.out.text).toContain("from a checkout: npx bun run chat [options]");
  expect(io.out.text).toContain("--limit-rate R");
  const parleyScript = testIo(tempDir()); // `npx bun run parley --help`: the overview
  expect(await runCli(["--help"], { ...parleyScript, env: { npm_lifecycle_event: "parley" } })).toBe(0);
  expect(parleyScript.out.text).toStartWith("Parley: chat and send files");
});

test("a usage error under --json is an error event too (E_USAGE), on stdout, or on stderr under --stdout", async () => {
  const io = testIo(tempDir());
  expect(await runCli(["send", "--text", "hi", "--json", "--to", "nonsense"], io)).toBe(1);
  expect(io.out.text).toBe(
    `{"type":"error","code":"E_USAGE","message":"\\"nonsense\\" is not a code, a port or host:port"}\n`,
  );
  expect(io.err.text).toStartWith('parley: "nonsense" is not a code, a port or host:port\n');
  const streamed = testIo(tempDir());
  expect(await runCli(["receive", "--stdout", "--json", "--port", "99999"], streamed)).toBe(1);
  expect(streamed.out.text).toBe("");
  expect(streamed.err.text).toContain('{"type":"error","code":"E_USAGE","message":"--port must be');
});

test("send checks --to before it looks at the paths (a big folder's walk can take seconds)", async () => {
  const io = testIo(tempDir());
  // The path does not exist: the plan would fail with exit 3 if it came first.
  expect(await runCli(["send", "no-such-folder", "--to", "40123"], io)).toBe(1);
  expect(io.err.text).toStartWith("parley: 40123 is only a port: ");
});

test("receive and send in one process: the file arrives byte for byte, both exit 0", async () => {
  const inbox = tempDir();
  const src = tempDir();
  const bytes = randomBytes(3 * 1024 * 1024 + 11);
  writeFileSync(join(src, "in-process.bin"), bytes);
  const receiverIo = testIo(inbox);
  const receiving = runCli(["receive", "--json"], receiverIo);
  const listening = await receiverIo.out.waitFor(/"type":"listening".*"code":"([^"]+)"/);
  const senderIo = testIo(src);
  const sent = await runCli(["send", join(src, "in-process.bin"), "--to", listening[1] as string], senderIo);
  expect(sent).toBe(0);
  expect(await receiving).toBe(0);
  expect(readFileSync(join(inbox, "in-process.bin")).equals(bytes)).toBe(true);
  expect(senderIo.out.text).toContain("in-process.bin");
  expect(senderIo.out.text).toMatch(/Note: the code is on this command line/);
});

test("a signal through the injected io ends a waiting receiver with 130", async () => {
  const io = testIo(tempDir());
  const receiving = runCli(["receive"], io);
  await io.out.waitFor(/^Listening on/m);
  io.signal("SIGINT");
  expect(await receiving).toBe(130);
  expect(io.out.text).toContain("Interrupted (Ctrl-C).");
});

test("a Ctrl-C that reaches the run twice (the terminal's and the `parley` launcher's, passed on) is said once", async () => {
  // At a terminal, Ctrl-C signals the launcher (bin.cjs) and Bun alike, and the launcher passes
  // its own on: the sender printed "Interrupted (Ctrl-C)." twice and, the second time after the
  // session had closed, no "Connection closed (interrupted)." line.
  const inbox = tempDir();
  const src = tempDir();
  writeFileSync(join(src, "slow.bin"), randomBytes(4 * 1024 * 1024));
  const receiverIo = testIo(inbox);
  const receiving = runCli(["receive", "--json"], receiverIo);
  const listening = await receiverIo.out.waitFor(/"type":"listening".*"code":"([^"]+)"/);
  const senderIo = testIo(src);
  const args = ["send", join(src, "slow.bin"), "--limit-rate", "1M", "--to", listening[1] as string];
  const sending = runCli(args, senderIo);
  await senderIo.out.waitFor(/^Sending #1 slow\.bin/m);
  senderIo.signal("SIGINT");
  senderIo.signal("SIGINT");
  expect(await sending).toBe(130);
  await receiving;
  const said = senderIo.out.text.split("\n");
  expect(
    said.filter((line) => line.startsWith("Interrupted")),
    senderIo.out.text,
  ).toEqual(["Interrupted (Ctrl-C)."]);
  expect(said).toContain("Connection closed (interrupted).");
});

test("send --limit-rate 1M holds a 1.5 MiB file to the rate: the flag reaches the session, the file arrives whole", async () => {
  // review30: with the scheduler never asking the limiter, every case of the suite but the
  // scheduler's own passed; a flag lost between the arguments and the session would be too.
  const inbox = tempDir();
  const src = tempDir();
  const bytes = randomBytes(1536 * 1024);
  writeFileSync(join(src, "paced.bin"), bytes);
  const receiverIo = testIo(tempDir());
  const receiving = runCli(["receive", "--json", "--dir", inbox], receiverIo);
  const listening = await receiverIo.out.waitFor(/"type":"listening".*"code":"([^"]+)"/);
  const senderIo = testIo(src);
  const started = performance.now();
  const args = ["send", join(src, "paced.bin"), "--limit-rate", "1M", "--to", listening[1] as string];
  expect(await runCli(args, senderIo), senderIo.err.text).toBe(0);
  const tookMs = performance.now() - started;
  expect(await receiving, receiverIo.err.text).toBe(0);
  expect(readFileSync(join(inbox, "paced.bin")).equals(bytes)).toBe(true);
  // Not a speed: a bound no machine can beat. 1.5 MiB at 1 MiB/s less one chunk of burst
  // (52,428 bytes, chunkBytesForRate) is 1.45 s at the least, however fast the rest is (a timer
  // never fires early); unlimited, the file takes a few ms here.
  expect(tookMs).toBeGreaterThanOrEqual(1_400);
});

test("a mailbox code kept out of ps (PARLEY_CODE) goes with its number alone on the command line, as a direct code's port does", async () => {
  // Before: `PARLEY_CODE=8-... parley send f --to 8` was '"8" is not a mailbox code', exit 1.
  // Nothing listens at the mailbox: a code taken is one that reaches for it (exit 2).
  const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const mailbox = ["--relay-url", `ws://127.0.0.1:${closed.port}/v1`];
  closed.stop(true);
  const file = join(tempDir(), "f.txt");
  writeFileSync(file, "f");
  const run = async (env: Record<string, string>, ...args: string[]) => {
    const io = { ...testIo(tempDir()), env };
    const exit = await runCli([...args, ...mailbox], io);
    return { exit, said: `${io.out.text}${io.err.text}` };
  };
  const kept = { PARLEY_CODE: "8-crossover-clockwork" };
  const sent = await run(kept, "send", file, "--to", "8");
  expect(sent.said).toContain("cannot reach the mailbox server");
  expect(sent.exit).toBe(2);
  expect((await run(kept, "receive", "8")).exit).toBe(2);
  const other = await run(kept, "send", file, "--to", "9");
  expect(other.exit).toBe(1);
  expect(other.said).toContain('"9" is not the number of the mailbox code in PARLEY_CODE or --code-file (8-...)');
  const alone = await run({}, "send", file, "--to", "8");
  expect(alone.exit).toBe(1);
  expect(alone.said).toContain('"8" is only a mailbox code\'s number: give the whole code');
  // The kept code is checked for a typo as a whole code given is: nothing tried (no mailbox line).
  const typo = await run({ PARLEY_CODE: "8-unicorn-burbanx" }, "send", file, "--to", "8");
  expect(typo.exit).toBe(1);
  expect(typo.said).toContain(
    '8-unicorn-burbanx looks mistyped, nothing was tried (a mailbox code is good for one try): "burbanx"',
  );
  expect(typo.said).not.toContain("cannot reach the mailbox server");
});

/** Two chats listening in this process on injected streams: alice's and bob's runs, and bob's code. */
async function twoChatsListening() {
  const aliceIo = testIo(tempDir());
  const bobIo = testIo(tempDir());
  const alice = runCli(["--name", "alice", "--dir", tempDir()], aliceIo);
  const bob = runCli(["--name", "bob", "--dir", tempDir()], bobIo);
  const [, code] = await bobIo.out.waitFor(/^Listening on \S+ · code (\S+)$/m);
  await aliceIo.out.waitFor(/^Listening on /m);
  return { aliceIo, bobIo, alice, bob, code: code as string };
}

test("two chats in one process on injected streams: code typed on one side, a line each way, exit ends both with 0", async () => {
  const { aliceIo, bobIo, alice, bob, code } = await twoChatsListening();
  const typeAt = (io: TestIo, line: string) => (io.stdin as PassThrough).write(`${line}\n`);
  typeAt(aliceIo, code);
  await aliceIo.out.waitFor(/^Connected to bob at /m);
  await bobIo.out.waitFor(/^Connected to alice at /m);
  typeAt(aliceIo, "hello bob");
  await bobIo.out.waitFor(/^<alice> hello bob$/m);
  typeAt(bobIo, "hi alice");
  await aliceIo.out.waitFor(/^<bob> hi alice$/m);
  typeAt(aliceIo, "exit");
  expect(await alice).toBe(0);
  expect(await bob).toBe(0);
  expect(aliceIo.out.text).not.toContain("\x1b"); // plain streams: no escape codes
});

/** The first cells of README.md's "In the chat" table that are commands (in backquotes): `cancel <id>`, `help`, ... */
function readmeChatCommands(): string[] {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const section = readme.slice(readme.indexOf("\n## In the chat\n"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("\n|")));
  return table
    .split("\n")
    .map((row) => /^\| `([^`]+)`/.exec(row)?.[1])
    .filter((usage): usage is string => usage !== undefined);
}

test("help typed with a peer connected lists the commands README's In the chat table lists, and no others", async () => {
  // 154fbf6 moved the list (chat-connected.ts); no test read it with a peer there.
  const { aliceIo, bobIo, alice, bob, code } = await twoChatsListening();
  const typeAt = (io: TestIo, line: string) => (io.stdin as PassThrough).write(`${line}\n`);
  typeAt(aliceIo, code);
  await aliceIo.out.waitFor(/^Connected to bob at .*"help" lists commands\.$/m);
  typeAt(aliceIo, "help");
  const [list] = await aliceIo.out.waitFor(/^Commands:\n(?: {2}.*\n)+Any other line is sent to the peer as chat\.$/m);
  // Each command line: its usage, two spaces or more, what it does.
  const usages = (list as string).split("\n").flatMap((line) => /^ {2}(\S.*?) {2,}\S/.exec(line)?.[1] ?? []);
  const readme = readmeChatCommands();
  expect(readme.length, "README's table was not found").toBeGreaterThan(0);
  expect(usages.sort()).toEqual(readme.sort());
  expect(usages).toContain("transfer <path>...");
  // The keys too: Ctrl-C leaves at once (newuser30: the list did not name it).
  expect(list).toContain("Ctrl-C quits at once: transfers under way are cancelled, the peer told");
  typeAt(aliceIo, "bye bob");
  await bobIo.out.waitFor(/^<alice> bye bob$/m);
  expect(bobIo.out.text).not.toContain("<alice> help"); // a command, not chat
  typeAt(aliceIo, "exit");
  expect(await alice).toBe(0);
  expect(await bob).toBe(0);
});

test("the code typed with spaces, as read out (`40123 ribbon walnut`), connects as the mailbox's `7 crossover clockwork` does", async () => {
  // Was 'Error: "40123 ribbon walnut" is not a code, a port or host:port.' and the prompt again (newuser24).
  const { aliceIo, bobIo, alice, bob, code } = await twoChatsListening();
  (aliceIo.stdin as PassThrough).write(`${code.replaceAll("-", " ").toUpperCase()}\n`);
  await aliceIo.out.waitFor(/^Connected to bob at /m);
  await bobIo.out.waitFor(/^Connected to alice at /m);
  (aliceIo.stdin as PassThrough).write("exit\n");
  expect(await alice).toBe(0);
  expect(await bob).toBe(0);
  expect(aliceIo.out.text + aliceIo.err.text).not.toContain("is not a code");
});

test("a script's code and exit piped at once: exit waits for the dial, the peer is told; after a failed dial, exit 1", async () => {
  // `printf 'CODE\nexit\n' | parley`: the exit came while the dial ran and ended the run at once
  // ("Bye.", exit 0), the peer never met; the end of input waited for the dial already.
  const { aliceIo, bobIo, alice, bob, code } = await twoChatsListening();
  (aliceIo.stdin as PassThrough).write(`${code}\nexit\n`); // one write: exit is read while the dial runs
  await bobIo.out.waitFor(/^alice left \(exit\)\. Connection closed\.$/m);
  expect(await alice).toBe(0);
  expect(await bob).toBe(0);
  // Nothing listens at the port: the dial fails, then the held exit ends the run with 1.
  const refused = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = refused.port;
  refused.stop(true);
  const carolIo = testIo(tempDir());
  const carol = runCli(["--name", "carol", "--dir", tempDir()], carolIo);
  await carolIo.out.waitFor(/^Listening on /m);
  (carolIo.stdin as PassThrough).write(`${port}-ribbon-walnut\nexit\n`);
  expect(await carol, carolIo.out.text).toBe(1);
  expect(carolIo.out.text).toMatch(/Could not connect to 127\.0\.0\.1:\d+: connection refused/);
});

test("a signal while send walks its folders (before any connection): said, exit 130 or 143, nothing contacted", async () => {
  const src = tempDir();
  writeFileSync(join(src, "a.txt"), "a");
  /** A listener that notes each connection it takes, by the port it came from. */
  const listen = () => {
    const dials: number[] = [];
    const waits: Array<() => void> = [];
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => {
          dials.push(socket.remotePort);
          for (const wake of waits.splice(0)) wake();
        },
        data() {},
      },
    });
    /** Resolves once `n` connections in all were taken. */
    const taken = async (n: number): Promise<void> => {
      while (dials.length < n) await new Promise<void>((resolve) => waits.push(resolve));
    };
    return { listener, dials, taken };
  };
  const signalled = listen();
  const unsignalled = listen();
  try {
    for (const [signal, code, words] of [
      ["SIGINT", 130, "Interrupted (Ctrl-C)"],
      ["SIGTERM", 143, "Terminated (SIGTERM)"],
    ] as const) {
      const base = testIo(tempDir());
      // The signal comes while the paths are planned: the walk is synchronous, so a real one is
      // handed to the listener once it is over; here it is handed over as the listener is added.
      let fired = false;
      const io: TestIo = {
        ...base,
        onSignal: (handler) => {
          const off = base.onSignal(handler);
          if (!fired) {
            fired = true;
            handler(signal);
          }
          return off;
        },
      };
      const exit = await runCli(["send", src, "--to", `127.0.0.1:${signalled.listener.port}-arena-surface`], io);
      expect(exit).toBe(code);
      expect(`${io.out.text}${io.err.text}`).toContain(`${words}: nothing was sent.`);
    }
    // A dial had its chance: the same command begun after those, unsignalled, dials (the other
    // listener) after all it loads first, which theirs would have loaded before; and a dial begun
    // before the probe's is taken before it (one listener's queue, in order).
    const control = testIo(tempDir());
    const run = runCli(["send", src, "--to", `127.0.0.1:${unsignalled.listener.port}-arena-surface`], control);
    await unsignalled.taken(1);
    control.signal("SIGINT");
    expect(await run, control.out.text + control.err.text).toBe(130);
    const probe = await Bun.connect({ hostname: "127.0.0.1", port: signalled.listener.port, socket: { data() {} } });
    await signalled.taken(1);
    expect(signalled.dials, "connections taken before the probe's").toEqual([probe.localPort]);
    probe.end();
  } finally {
    signalled.listener.stop(true);
    unsignalled.listener.stop(true);
  }
});

test("send lets go of its walk-time signal listener on every way out: paths unsendable, a signal in the walk, a run that ends", async () => {
  const src = tempDir();
  writeFileSync(join(src, "a.txt"), "a");
  /** An io that counts the signal listeners still subscribed; `fireAtOnce` hands one over as it is added. */
  const counting = (fireAtOnce?: "SIGINT") => {
    const base = testIo(tempDir());
    let subscribed = 0;
    const io: TestIo = {
      ...base,
      onSignal: (handler) => {
        const off = base.onSignal(handler);
        subscribed++;
        if (fireAtOnce) handler(fireAtOnce);
        let on = true;
        return () => {
          if (on) subscribed--;
          on = false;
          return off();
        };
      },
    };
    return { io, subscribed: () => subscribed };
  };
  const missing = counting();
  expect(await runCli(["send", join(src, "no-such-file")], missing.io)).toBe(3);
  expect(missing.subscribed()).toBe(0);
  const interrupted = counting("SIGINT");
  expect(await runCli(["send", src, "--to", "127.0.0.1:9-arena-surface"], interrupted.io)).toBe(130);
  expect(interrupted.subscribed()).toBe(0);
  const refused = counting();
  // Nothing listens on the discard port: the run ends with a refused dial (exit 2).
  expect(await runCli(["send", src, "--to", "127.0.0.1:9-arena-surface"], refused.io)).toBe(2);
  expect(refused.subscribed(), refused.io.err.text + refused.io.out.text).toBe(0);
});

/**
 * A command run in-process on an io that notes each stream asked for, and the streams asked for
 * before each line written with writeLineNow (as main.ts's io writes the first lines), a line
 * on fd 2 marked "[fd 2]". `lineWriter: false`: an io without writeLineNow (the streams only).
 */
function notingStreams(
  args: readonly string[],
  lineWriter = true,
  cwd = tempDir(),
): { io: TestIo; run: Promise<number>; shown: string[]; turnedBefore: boolean[] } {
  const base = testIo(cwd);
  const asked: string[] = [];
  const shown: string[] = [];
  // For each line written with writeLineNow: had the event loop turned since the run began?
  const turnedBefore: boolean[] = [];
  let turned = false;
  setTimeout(() => {
    turned = true;
  }, 0);
  const io: TestIo = {
    ...base,
    get stdin() {
      asked.push("stdin");
      return base.stdin;
    },
    get stdout() {
      asked.push("stdout");
      return base.stdout;
    },
    get stderr() {
      asked.push("stderr");
      return base.stderr;
    },
    ...(lineWriter
      ? {
          writeLineNow: (line: string, fd: 1 | 2 = 1) => {
            shown.push(`${fd === 2 ? "[fd 2] " : ""}${line} (streams asked for before: ${asked.join(",") || "none"})`);
            turnedBefore.push(turned);
            (fd === 2 ? base.stderr : base.stdout).write(`${line}\n`);
          },
        }
      : {}),
  };
  return { io, run: runCli(args, io), shown, turnedBefore };
}

// Node's stdio streams cost 14-16 ms each at start-up here: none is made before the code is shown.
test.each([
  ["waiting for the peer", [] as string[]],
  // A good code given up front: the terminal is asked about only for a bad one (exit 1 if no one can retype it).
  ["with --connect CODE", ["--connect", "127.0.0.1:9-arena-surface"]],
])("the chat %s shows its code before it asks for stdin, stdout or stderr", async (_what, args) => {
  const { io, run, shown } = notingStreams(["--dir", tempDir(), ...args]);
  await io.out.waitFor(/^Listening on /m);
  expect(shown[0]).toMatch(/^Listening on \S+ · code \S+ \(streams asked for before: none\)$/);
  io.signal("SIGINT");
  expect(await run).toBe(130);
});

/** A listener that takes connections and never answers: a dialer's handshake waits there. */
function silentListener() {
  return Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
}

const NONE = "(streams asked for before: none)";
const HINT_FOR_SEND = "Waiting for the peer: PARLEY_CODE=PORT-WORDS parley receive PORT";
const HINT_FOR_RECEIVE = "Waiting for the peer: PARLEY_CODE=PORT-WORDS parley send <paths> --to PORT";
const ON_COMMAND_LINE =
  "Note: the code is on this command line, which other users of this machine can see (ps); PARLEY_CODE or --code-file keep it private.";

// As the chat (session 16), send and receive show their code (or, given a code, their first line)
// before any stdio stream is made; the streams come with the session layer, once it is shown.
test.each([
  [
    "send FILE",
    ["send", "FILE"],
    [`Listening on 127.0.0.1:PORT · code PORT-WORDS ${NONE}`, `${HINT_FOR_SEND} ${NONE}`],
  ],
  [
    "send FILE --json",
    ["send", "FILE", "--json"],
    [`{"type":"listening","host":"127.0.0.1","port":PORT,"code":"PORT-WORDS","reachableAt":[]} ${NONE}`],
  ],
  ["receive", ["receive"], [`Listening on 127.0.0.1:PORT · code PORT-WORDS ${NONE}`, `${HINT_FOR_RECEIVE} ${NONE}`]],
  [
    "receive --json",
    ["receive", "--json"],
    [`{"type":"listening","host":"127.0.0.1","port":PORT,"code":"PORT-WORDS","reachableAt":[]} ${NONE}`],
  ],
  ["send FILE --to CODE", ["send", "FILE", "--to", "CODE"], [`${ON_COMMAND_LINE} ${NONE}`]],
  ["send FILE --to CODE --json", ["send", "FILE", "--to", "CODE", "--json"], [`[fd 2] ${ON_COMMAND_LINE} ${NONE}`]],
  ["receive CODE", ["receive", "CODE"], [`${ON_COMMAND_LINE} ${NONE}`]],
  ["receive CODE --json", ["receive", "CODE", "--json"], [`[fd 2] ${ON_COMMAND_LINE} ${NONE}`]],
])("parley %s shows its first line before it asks for stdin, stdout or stderr", async (_what, template, expected) => {
  const peer = silentListener();
  try {
    const src = tempDir();
    writeFileSync(join(src, "a.txt"), "a");
    const file = join(src, "a.txt");
    const args = template.map((a) => (a === "FILE" ? file : a === "CODE" ? `127.0.0.1:${peer.port}-arena-surface` : a));
    const { io, run, shown } = notingStreams(args, true, src);
    await Promise.race([io.out.waitFor(/\n/), io.err.waitFor(/\n/)]);
    await Bun.sleep(0); // a second line written at once (the hint) is written by now
    const lines = shown
      .slice(0, expected.length)
      .map((line) => line.replace(/\b(\d{4,5})-[a-z]+-[a-z]+/, "PORT-WORDS").replace(/\b\d{4,5}\b/g, "PORT"));
    expect(lines).toEqual(expected);
    io.signal("SIGINT");
    expect(await run).toBe(130);
  } finally {
    peer.stop(true);
  }
});

// A turn of the event loop with the heap grown since the last is where Bun's collector runs a full
// collection (3-16 ms under load): `send FILE` shows its first line without one (the walk's turn,
// where a signal caught during it is handed over, is for folders).
test.each([
  ["send FILE", ["send", "FILE"]],
  ["send FILE --json", ["send", "FILE", "--json"]],
  ["send FILE FILE --to CODE", ["send", "FILE", "FILE", "--to", "CODE"]],
])("parley %s shows its first line before a turn of the event loop", async (_what, template) => {
  const peer = silentListener();
  try {
    const src = tempDir();
    writeFileSync(join(src, "a.txt"), "a");
    const args = template.map((a) =>
      a === "FILE" ? join(src, "a.txt") : a === "CODE" ? `127.0.0.1:${peer.port}-arena-surface` : a,
    );
    const { io, run, shown, turnedBefore } = notingStreams(args, true, src);
    await Promise.race([io.out.waitFor(/\n/), io.err.waitFor(/\n/)]);
    expect(shown.length).toBeGreaterThan(0);
    expect(turnedBefore[0]).toBe(false);
    io.signal("SIGINT");
    expect(await run).toBe(130);
  } finally {
    peer.stop(true);
  }
});

/** `text` with the listener's port and code words in it made the same from run to run. */
const samePortAndCode = (text: string) =>
  text
    .replace(/\b(\d{4,5})-[a-z]+-[a-z]+\b/g, "PORT-WORDS")
    .replace(/("port":|127\.0\.0\.1:|parley receive |--to )\d+/g, "$1PORT");

// What is printed, on which stream and in which order, is the same whether the first lines go
// out through the line writer (main.ts's io) or through the streams (a test's io, as before).
test.each([
  ["send FILE", ["send", "FILE"]],
  ["send FILE --json", ["send", "FILE", "--json"]],
  ["receive", ["receive"]],
  ["receive --json", ["receive", "--json"]],
])("parley %s: the same lines on the same streams with the line writer as without", async (_what, template) => {
  const outputs: string[] = [];
  for (const lineWriter of [true, false]) {
    const src = tempDir();
    writeFileSync(join(src, "a.txt"), "a");
    const args = template.map((a) => (a === "FILE" ? join(src, "a.txt") : a));
    const { io, run } = notingStreams(args, lineWriter, src);
    await io.out.waitFor(/^(Listening on |\{"type":"listening")/m);
    io.signal("SIGINT");
    expect(await run).toBe(130);
    outputs.push(`stdout:\n${samePortAndCode(io.out.text)}stderr:\n${samePortAndCode(io.err.text)}`);
  }
  expect(outputs[0]).toBe(outputs[1] as string);
});

test.each([
  ["exit typed", 0, "Bye."],
  ["Ctrl-C", 130, "Interrupted (Ctrl-C). Bye."],
] as const)(
  "%s at a terminal while a dial runs and a line is held: it quits at once, not once the dial gives up, and says the line did not go",
  async (ending, code, lastLine) => {
    // A listener that accepts and never speaks: the dial gives up after 2 s here (no greeting);
    // joining a mailbox code whose peer does not answer takes 30 s (TRANSIT_TIMEOUT_MS).
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      // A person at a terminal (TERM=dumb: plain lines on the injected streams, typed lines all the same).
      const io = testIo(tempDir());
      Object.assign(io.stdin, { isTTY: true });
      Object.assign(io.stdout, { isTTY: true });
      Object.assign(io.env, { TERM: "dumb" });
      const chat = runCli(["--dir", tempDir(), "--connect", `127.0.0.1:${listener.port}-ribbon-walnut`], io);
      await io.out.waitFor(/^Connecting to 127\.0\.0\.1:\d+ with the code\.\.\.$/m);
      (io.stdin as PassThrough).write("anyone there?\n"); // held for the connection
      // Lines are taken in order: help's answer shows once that line is held.
      (io.stdin as PassThrough).write("help\n");
      await io.out.waitFor(/^Enter the code the peer's Parley shows \(port-word-word\)\. exit quits\.$/m);
      if (ending === "Ctrl-C") io.signal("SIGINT");
      else (io.stdin as PassThrough).write("exit\n");
      // Held behind that line too (fb40fc0, for scripts), exit waited the dial out, silent.
      const ended = await Promise.race([chat, Bun.sleep(1_000).then(() => "still waiting for the dial")]);
      expect(ended).toBe(code);
      // The held line is dropped, and said so (it went unsaid before: after Ctrl-C until session 23).
      expect(io.out.text).toContain(`Not sent: the line typed while connecting.\n${lastLine}`);
    } finally {
      listener.stop(true);
    }
  },
);
