/**
 * `parley receive --stdout` run in-process (injected io) against a plain wormhole client played
 * by the test (test/wormhole-peer-kit.ts): the client's text message goes to the command's own
 * stdout, not around it to the process's, and the rest of the run's lines to its stderr. And the
 * chat with a mailbox at its prompt, in-process: codes typed wrong, twice, or its own; its own
 * code spent by a joiner (a wrong code, a joiner that died inside the key exchange).
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/cli.ts";
import { encodeOffer } from "../../src/protocol/index.ts";
import { useWormholeServers } from "../e2e/wormhole-kit.ts";
import { testIo } from "../in-process-io.ts";
import { closePeerKit, joinAndDie, joinCode, untilMessage } from "../wormhole-peer-kit.ts";

const kit = useWormholeServers("receive --stdout in-process (test/integration/cli-in-process-mailbox.test.ts)");
const dirs: string[] = [];
afterEach(async () => {
  await closePeerKit();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A new temp folder, removed after the test. */
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), "parley-inproc-mailbox-"));
  dirs.push(d);
  return d;
}

/**
 * Two chats waiting in the mailbox with codes of their own (`--no-listen`: the relay path);
 * `markAlice` runs on alice's io before she starts. `type` writes a line at alice's prompt.
 */
async function twoChatsWaiting(markAlice: (io: ReturnType<typeof testIo>) => void = () => {}) {
  const aliceIo = testIo(freshDir());
  markAlice(aliceIo);
  const alice = runCli(["--name", "alice", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], aliceIo);
  const bobIo = testIo(freshDir());
  const bob = runCli(["--name", "bob", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], bobIo);
  const shown = /^Waiting in the mailbox · code (\S+)$/m;
  await aliceIo.out.waitFor(shown);
  const [, bobCode] = await bobIo.out.waitFor(shown);
  const type = (line: string) => (aliceIo.stdin as PassThrough).write(`${line}\n`);
  return { aliceIo, alice, bobIo, bob, bobCode: bobCode as string, type };
}

/** Alice's chat at a terminal (TERM=dumb: plain lines on the injected streams), waiting in the mailbox with her code. */
async function aliceAtTerminal(env: Record<string, string> = {}) {
  const aliceIo = testIo(freshDir());
  Object.assign(aliceIo.stdin, { isTTY: true });
  Object.assign(aliceIo.stdout, { isTTY: true });
  Object.assign(aliceIo.env, { TERM: "dumb", ...env });
  const alice = runCli(["--name", "alice", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], aliceIo);
  const [, code] = await aliceIo.out.waitFor(/^Waiting in the mailbox · code (\S+)$/m);
  /** Waits for `re` in alice's output; her chat ending first fails, with its exit code and lines. */
  const shows = (re: RegExp) =>
    Promise.race([
      aliceIo.out.waitFor(re),
      alice.then((exit) => {
        throw new Error(`alice's chat ended (exit ${exit}) before ${re}:\n${aliceIo.out.text}`);
      }),
    ]);
  return { aliceIo, alice, code: code as string, shows };
}

/** The `n`th code alice's chat shows (1: the first). */
const nthCode = (n: number) =>
  new RegExp(
    `${"^Waiting in the mailbox · code \\S+$[\\s\\S]*".repeat(n - 1)}^Waiting in the mailbox · code (\\S+)$`,
    "m",
  );

/**
 * Alice's chat at a terminal (aliceAtTerminal), its first code spent, goes on: a second code, which
 * bob joins; both exit 0 on alice's `exit`, and alice's chat said no error.
 */
async function goesOnWithANewCode({ aliceIo, alice, code, shows }: Awaited<ReturnType<typeof aliceAtTerminal>>) {
  const [, fresh] = await shows(nthCode(2));
  expect(fresh).not.toBe(code);
  const { bob } = bobJoins(fresh as string);
  await shows(/^Connected to bob through the relay at /m);
  (aliceIo.stdin as PassThrough).write("exit\n");
  expect(await alice, aliceIo.out.text).toBe(0);
  expect(await bob).toBe(0);
  expect(aliceIo.out.text).not.toContain("Error:");
}

/** Bob's chat given `code` (piped: a failure ends it), on its own. */
function bobJoins(code: string) {
  const bobIo = testIo(freshDir());
  const bob = runCli(["--name", "bob", "--dir", freshDir(), "--no-listen", ...kit.mailbox(), "--connect", code], bobIo);
  return { bobIo, bob };
}

describe.skipIf(!kit.available)("receive --stdout from a plain wormhole client, in-process", () => {
  test("its text message is written to the injected stdout, the waiting line to the injected stderr", async () => {
    const dir = freshDir();
    const io = testIo(dir);
    const receiving = runCli(["receive", "--stdout", ...kit.mailbox()], io);
    const [, code] = await io.err.waitFor(/^Waiting in the mailbox · code (\S+)$/m);
    const { w } = await joinCode(kit.servers(), code as string);
    w.send(encodeOffer({ kind: "message", text: "hello from a plain client" }));
    const answer = await untilMessage(w, "answer");
    expect(answer.message.answer).toEqual({ kind: "message_ack", ok: true });
    expect(await receiving).toBe(0);
    expect(io.out.text).toBe("hello from a plain client\n");
    expect(io.err.text).not.toContain("hello from a plain client");
  }, 60_000);
});

describe.skipIf(!kit.available)("the chat with a mailbox, in-process", () => {
  test("at a terminal, a code typed that fails while ours waits gives the prompt back: the next one meets", async () => {
    // Before: a mistyped number ended the chat (exit 2) though nothing was spent and its own
    // code still waited; a failed dial in the direct flow gives the prompt back.
    const { aliceIo, alice, bob, bobCode, type } = await twoChatsWaiting((io) => {
      // A person at a terminal (TERM=dumb: plain lines on the injected streams).
      Object.assign(io.stdin, { isTTY: true });
      Object.assign(io.stdout, { isTTY: true });
      Object.assign(io.env, { TERM: "dumb" });
    });
    type("98765-crossover-clockwork");
    await aliceIo.out.waitFor(
      /^Error: no one is waiting with that code \(unknown nameplate\)\. Check it and type it again, or wait for the peer to type yours\.$/m,
    );
    type(bobCode);
    await aliceIo.out.waitFor(/^Connected to bob through the relay at /m);
    type("exit");
    expect(await alice).toBe(0);
    expect(await bob).toBe(0);
  }, 30_000);
  test("at a terminal, a code typed before its own came that fails: its own code is shown after the failure, not after 'Joining'", async () => {
    const aliceIo = testIo(freshDir());
    Object.assign(aliceIo.stdin, { isTTY: true });
    Object.assign(aliceIo.stdout, { isTTY: true });
    Object.assign(aliceIo.env, { TERM: "dumb" });
    // Typed before the chat starts: read before the mailbox has given it a code.
    (aliceIo.stdin as PassThrough).write("98765-crossover-clockwork\n");
    const alice = runCli(["--name", "alice", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], aliceIo);
    const [, code] = await aliceIo.out.waitFor(/^Waiting in the mailbox · code (\S+)$/m);
    const lines = aliceIo.out.text.split("\n");
    const failed = lines.findIndex((l) => l.startsWith("Error: no one is waiting with that code"));
    // Before: its code's two lines came after "Joining 98765-...", before the failure.
    expect(lines.indexOf("Joining 98765-crossover-clockwork..."), aliceIo.out.text).toBeGreaterThanOrEqual(0);
    expect(failed, aliceIo.out.text).toBeGreaterThan(lines.indexOf("Joining 98765-crossover-clockwork..."));
    expect(lines.indexOf(`Waiting in the mailbox · code ${code}`), aliceIo.out.text).toBe(failed + 1);
    expect(lines[failed + 2]).toBe("Give the peer this code, or type the code its Parley shows.");
    const { bob } = bobJoins(code as string);
    await aliceIo.out.waitFor(/^Connected to bob through the relay at /m);
    (aliceIo.stdin as PassThrough).write("exit\n");
    expect(await alice).toBe(0);
    expect(await bob).toBe(0);
  }, 30_000);
  test("the code typed again while it is joined is not held as chat: the peer never sees it", async () => {
    // Before: the second line waited with lines typed while joining and went to the peer as
    // chat once connected ("<alice> 7-pyramid-lockup" on bob's screen).
    const { aliceIo, alice, bobIo, bob, bobCode, type } = await twoChatsWaiting();
    type(bobCode);
    await aliceIo.out.waitFor(/^Joining /m);
    type(` ${bobCode.toUpperCase()}`);
    await aliceIo.out.waitFor(/^Already connecting with that code\.$/m);
    type("hello bob");
    await bobIo.out.waitFor(/^<alice> hello bob$/m);
    expect(bobIo.out.text).not.toContain(`<alice> ${bobCode}`);
    expect(bobIo.out.text.match(/^<alice> /gm)).toHaveLength(1);
    type("exit");
    expect(await alice).toBe(0);
    expect(await bob).toBe(0);
  }, 30_000);
  test("its own code typed is refused at once, and it still waits for the peer on it", async () => {
    // Since its own code stays in the mailbox while a code typed is joined, the two meetings met
    // each other and used it up: "Dropped a connection ...: no answer to the greeting", then a
    // prompt that nothing could answer any more.
    const aliceIo = testIo(freshDir());
    const alice = runCli(["--name", "alice", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], aliceIo);
    const [, aliceCode] = await aliceIo.out.waitFor(/^Waiting in the mailbox · code (\S+)$/m);
    (aliceIo.stdin as PassThrough).write(`${aliceCode}\n`);
    await aliceIo.out.waitFor(/^That is this chat's own code: give it to the peer/m);
    const bobIo = testIo(freshDir());
    const bob = runCli(["--name", "bob", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], bobIo);
    await bobIo.out.waitFor(/^Waiting in the mailbox · code /m);
    (bobIo.stdin as PassThrough).write(`${aliceCode}\n`);
    await aliceIo.out.waitFor(/^Connected to bob through the relay at /m);
    await bobIo.out.waitFor(/^Connected to alice through the relay at /m); // an exit before it would leave without a word
    (bobIo.stdin as PassThrough).write("exit\n");
    expect(await alice, aliceIo.out.text).toBe(0);
    expect(await bob).toBe(0);
    expect(aliceIo.out.text).not.toContain("Joining");
  }, 30_000);

  test("at a terminal, its code spent by a joiner that died inside the key exchange: a new code, and the chat goes on", async () => {
    // Before: "Error: the peer left: it began the key exchange but did not finish it within 1 s,
    // and the code is used up: start again for a new one", exit 2.
    const at = await aliceAtTerminal({ PARLEY_MAILBOX_KEY_EXCHANGE_MS: "1000" });
    await joinAndDie(kit.servers().mailboxUrl, at.code);
    await at.shows(
      /^Whoever typed this chat's code left inside the key exchange \(1 of 3\): no chat or file data was exchanged; a mailbox code is good for one try, so here is a new one\.$/m,
    );
    await goesOnWithANewCode(at);
  }, 30_000);
  test("at a terminal, its code spent by a joiner's key exchange message that is not usable: a new code, and the chat goes on", async () => {
    // Before: "Error: the peer broke the protocol: the peer's key exchange message is not usable",
    // exit 2, at once: one message from anyone who took the code's number ended the chat.
    const at = await aliceAtTerminal();
    await joinAndDie(kit.servers().mailboxUrl, at.code, "00");
    await at.shows(
      /^Whoever typed this chat's code broke the key exchange: the peer's key exchange message is not usable \(1 of 3\): no chat or file data was exchanged; a mailbox code is good for one try, so here is a new one\.$/m,
    );
    await goesOnWithANewCode(at);
  }, 30_000);
  test("parley send, its code spent by a joiner's key exchange message that is not usable: the line says the code is used up", async () => {
    const dir = freshDir();
    const file = join(dir, "f.txt");
    writeFileSync(file, "hello\n");
    const io = testIo(dir);
    const send = runCli(["send", file, "--no-listen", ...kit.mailbox()], io);
    const [, code] = await Promise.race([io.out.waitFor(/code (\d+-\S+)/), io.err.waitFor(/code (\d+-\S+)/)]);
    await joinAndDie(kit.servers().mailboxUrl, code as string, "00");
    expect(await send, `${io.out.text}${io.err.text}`).toBe(2);
    // Before: "Error: the peer broke the protocol: the peer's key exchange message is not usable.",
    // nothing said of the code, which a wrong code's line says is used up.
    expect(`${io.out.text}${io.err.text}`).toContain(
      "Error: the peer broke the protocol: the peer's key exchange message is not usable; the code is used up (a mailbox code is good for one try): start again for a new one.",
    );
  }, 30_000);
  test("at a terminal, a code typed whose other side sends no usable key exchange message (a stranger squatting its number): the prompt comes back", async () => {
    // Someone took a number (a spent code's, still listed: they never let go of it) and left a
    // key exchange message that is none. Before: the chat typing that code ended at once, exit 2,
    // with its own code still waiting; a wrong code typed gives the prompt back.
    const at = await aliceAtTerminal();
    await joinAndDie(kit.servers().mailboxUrl, "4242-crossover-clockwork", "00");
    (at.aliceIo.stdin as PassThrough).write("4242-crossover-clockwork\n");
    await at.shows(
      /^Error: the key exchange with that code broke \(its other side's key exchange message is not usable: someone who took the code's number, or a broken client\), and that code is used up \(good for one try\)\. Type its new one, or wait for the peer to type yours\.$/m,
    );
    const { bob } = bobJoins(at.code);
    await at.shows(/^Connected to bob through the relay at /m);
    (at.aliceIo.stdin as PassThrough).write("exit\n");
    expect(await at.alice, at.aliceIo.out.text).toBe(0);
    expect(await bob).toBe(0);
  }, 30_000);
  test("at a terminal, its code spent by wrong codes: a new one twice, as a listener's 3 wrong codes; the third ends it, exit 2", async () => {
    // Before: the first wrong code ended the chat, exit 2 ("start again for a new one").
    const { aliceIo, alice, code, shows } = await aliceAtTerminal();
    let current = code;
    for (const n of [1, 2, 3]) {
      const { bobIo, bob } = bobJoins(`${current.split("-")[0]}-zzzzq-qqqqz`); // far from the word lists: tried
      expect(await bob, bobIo.out.text).toBe(2);
      if (n === 3) break;
      await shows(
        new RegExp(
          `^Wrong code from whoever typed this chat's code \\(${n} of 3\\): no chat or file data was exchanged; a mailbox code is good for one try, so here is a new one\\.$`,
          "m",
        ),
      );
      current = (await shows(nthCode(n + 1)))[1] as string;
    }
    expect(await alice, aliceIo.out.text).toBe(2);
    expect(aliceIo.out.text).toMatch(
      /^Wrong code from whoever typed this chat's code \(3 of 3\): no chat or file data was exchanged; no new code, so that codes cannot be guessed\.$/m,
    );
    expect(aliceIo.out.text).toMatch(/^Error: wrong code: .*start again for a new one$/m);
    expect(aliceIo.out.text.match(/^Waiting in the mailbox · code /gm)).toHaveLength(3);
  }, 30_000);
  test("a script's chat (piped), its code spent by a wrong code: it ends there, exit 2, no new code", async () => {
    const aliceIo = testIo(freshDir());
    const alice = runCli(["--name", "alice", "--dir", freshDir(), "--no-listen", ...kit.mailbox()], aliceIo);
    const [, code] = await aliceIo.out.waitFor(/^Waiting in the mailbox · code (\S+)$/m);
    const { bob } = bobJoins(`${(code as string).split("-")[0]}-zzzzq-qqqqz`);
    expect(await bob).toBe(2);
    expect(await alice, aliceIo.out.text).toBe(2);
    expect(aliceIo.out.text).toMatch(/^Error: wrong code: .*start again for a new one$/m);
    expect(aliceIo.out.text.match(/^Waiting in the mailbox · code /gm)).toHaveLength(1);
  }, 30_000);
});
