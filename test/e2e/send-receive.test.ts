/**
 * `parley send` and `parley receive` as scripts use them: real processes, both directions of
 * who listens, --json events checked line by line against the documented schema, pipes
 * through stdin/stdout, --ask, exit codes.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeDataHeader, encodeMessage, FrameType } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import {
  Cli,
  cleanup,
  closedPort,
  MAIN,
  makeTempDir,
  NODE,
  PARLEY,
  PARLEY_SHELL,
  ROOT,
  randomFile,
  shellWords,
  startCli,
} from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;

type Event = Record<string, unknown> & { type: string };

/** Every stdout line is one JSON object whose fields match the README's schema. */
function events(cli: Cli): Event[] {
  return cli.lines.map((line) => {
    const e = JSON.parse(line) as Event;
    expect(SCHEMA[e.type], `unknown event type in ${line}`).toBeDefined();
    for (const [field, kind] of Object.entries(SCHEMA[e.type] ?? {})) {
      const value = e[field];
      const ok = kind.endsWith("?")
        ? value === undefined || typeOf(value) === kind.slice(0, -1)
        : typeOf(value) === kind;
      expect(ok, `${e.type}.${field} should be ${kind} in ${line}`).toBe(true);
    }
    return e;
  });
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

const TRANSFER = { id: "number", direction: "string", name: "string" };
const SCHEMA: Record<string, Record<string, string>> = {
  listening: { host: "string", port: "number", code: "string", reachableAt: "array" },
  connected: { peer: "object", verified: "boolean", verification: "string" },
  chat: { text: "string" },
  offer: { ...TRANSFER },
  progress: { id: "number", direction: "string", bytes: "number" },
  done: { ...TRANSFER, bytes: "number", resumedFrom: "number", checksum: "object", path: "string?" },
  error: { code: "string", message: "string", id: "number?" },
  bye: { reason: "string" },
};

/** The sender's line when its receiver asks about each offer (receive --ask). */
const PEER_ASKS =
  "The peer asks its user before taking each offer (parley receive --ask; a folder once): what you send waits for their answer.";

/** The code a JSON-mode command prints when it listens. */
async function listeningCode(cli: Cli): Promise<string> {
  const { line } = await cli.waitForLine(/"type":"listening"/);
  return (JSON.parse(line) as { code: string }).code;
}

describe("parley send / receive", () => {
  test(
    "receive listens, send dials: files verified, JSON events valid and in order, exit 0",
    async () => {
      const dir = makeTempDir();
      const one = randomFile("one.bin", 3 * 1024 * 1024 + 5);
      const two = randomFile("two words.txt", 10);
      const receiver = startCli("receiver", ["receive", "--json", "--dir", dir]);
      const code = await listeningCode(receiver);
      const sender = startCli("sender", ["send", one.path, two.path, "--to", code, "--json"]);
      expect(await sender.exitCode()).toBe(0);
      expect(await receiver.exitCode()).toBe(0);
      expect(readFileSync(join(dir, "one.bin")).equals(one.bytes)).toBe(true);
      expect(readFileSync(join(dir, "two words.txt")).equals(two.bytes)).toBe(true);

      const got = events(receiver);
      const sent = events(sender);
      // Offers are pipelined, so offers and dones may interleave; each done follows its offer.
      const shape = (list: Event[]) => {
        const types = list.map((e) => e.type).filter((t) => t !== "progress");
        for (const done of list.filter((e) => e.type === "done")) {
          const offerAt = list.findIndex((e) => e.type === "offer" && e.id === done.id);
          expect(offerAt).toBeGreaterThanOrEqual(0);
          expect(offerAt).toBeLessThan(list.indexOf(done));
        }
        return [types[0], types[1], types.at(-1), types.filter((t) => t === "offer").length, types.length];
      };
      expect(shape(got)).toEqual(["listening", "connected", "bye", 2, 7]);
      expect(shape(sent).slice(0, 1)).toEqual(["connected"]);
      expect(shape(sent).slice(2)).toEqual(["bye", 2, 6]);
      const byId = (list: Event[]) =>
        list.filter((e) => e.type === "done").sort((x, y) => (x.id as number) - (y.id as number));
      const doneRecv = byId(got);
      const doneSent = byId(sent);
      expect(doneRecv.map((e) => e.bytes)).toEqual([one.bytes.length, 10]);
      expect(doneSent.map((e) => e.bytes)).toEqual([one.bytes.length, 10]);
      expect(doneRecv.map((e) => e.checksum)).toEqual(doneSent.map((e) => e.checksum));
      expect(doneRecv[0]?.path).toBe(join(dir, "one.bin"));
      // Nothing but JSON on stdout: human messages went to stderr.
      expect(receiver.lines.every((l) => l.startsWith("{"))).toBe(true);
    },
    TEST_MS,
  );

  test(
    "human lines: the dialing side names the port it dialed, the dialed side the peer's host alone (--json: the whole address)",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("a.bin", 1000);
      const receiver = startCli("receiver", ["receive", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:(\d+) · code (\S+)$/);
      const sender = startCli("sender", ["send", file.path, "--to", match[2] as string]);
      expect(await sender.exitCode(), sender.describe()).toBe(0);
      expect(await receiver.exitCode(), receiver.describe()).toBe(0);
      expect(readFileSync(join(dir, "a.bin")).equals(file.bytes)).toBe(true);
      expect(sender.linesMatching(/^Connected /)).toEqual([
        `Connected to peer at 127.0.0.1:${match[1]} (encrypted, verified by the code).`,
      ]);
      // It said "at 127.0.0.1:PORT" with the port the sender's system picked for the connection,
      // where nothing listens, as if the sender could be reached there.
      expect(receiver.linesMatching(/^Connected /)).toEqual([
        "Connected to peer at 127.0.0.1 (encrypted, verified by the code).",
      ]);
      const json = startCli("receiver", ["receive", "--json", "--dir", makeTempDir()]);
      const code = await listeningCode(json);
      const again = startCli("sender", ["send", file.path, "--to", code]);
      expect(await again.exitCode(), again.describe()).toBe(0);
      expect(await json.exitCode(), json.describe()).toBe(0);
      const connected = events(json).find((e) => e.type === "connected") as Event;
      expect((connected.peer as { address: string }).address).toMatch(/^127\.0\.0\.1:\d+$/);
    },
    TEST_MS,
  );

  test.each(["receive", "send"] as const)(
    "a listening %s's hint, run as it says (<paths> a file, in a shell): the peer meets it, and no note says the code shows in ps",
    async (listener) => {
      // The hint said `parley send <paths> --to <code>` (`parley receive <code>`): followed, the code
      // went on the command line, and the command's first line said other users can see it there.
      const dir = makeTempDir();
      const file = randomFile("hint.bin", 1000);
      const first = startCli("listener", listener === "receive" ? ["receive", "--dir", dir] : ["send", file.path]);
      const { match } = await first.waitForLine(/^Waiting for the peer: (.*)$/);
      const hint = match[1] as string;
      expect(hint).not.toContain("<code>");
      const run = hint
        .replace(/\bparley\b/, PARLEY_SHELL)
        .replace("<paths>", shellWords([file.path]))
        .concat(listener === "send" ? ` --dir ${shellWords([dir])}` : "");
      const second = new Cli("follower", [], ["bash", "-c", run]);
      expect(await second.exitCode(), second.describe()).toBe(0);
      expect(await first.exitCode(), first.describe()).toBe(0);
      expect(readFileSync(join(dir, "hint.bin")).equals(file.bytes)).toBe(true);
      expect(`${second.lines.join("\n")}\n${second.stderr}`).not.toMatch(/Note: the code is on this command line/);
    },
    TEST_MS,
  );

  test(
    "send listens, receive dials; with --checksum sha256 the digest is the file's SHA-256",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("report.pdf", 1024 * 1024 + 1);
      const sender = startCli("sender", ["send", file.path, "--json", "--checksum", "sha256"]);
      const code = await listeningCode(sender);
      const receiver = startCli("receiver", ["receive", `127.0.0.1:${code}`, "--dir", dir, "--json"]);
      expect(await sender.exitCode()).toBe(0);
      expect(await receiver.exitCode()).toBe(0);
      const done = events(receiver).find((e) => e.type === "done") as Event;
      expect(done.checksum).toEqual({ algo: "sha256", digest: createHash("sha256").update(file.bytes).digest("hex") });
      expect(readFileSync(join(dir, "report.pdf")).equals(file.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test.each([[[]], [["--json"]]])(
    "cat file | parley send - into parley receive --stdout %p: the same bytes, nothing else on stdout",
    async (extra: string[]) => {
      const file = randomFile("stream.bin", 5 * 1024 * 1024 + 3);
      const receiver = Bun.spawn([...PARLEY, "receive", "--stdout", ...extra], {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      });
      const stderrReader = receiver.stderr.getReader();
      let stderr = "";
      let code = "";
      while (code === "") {
        const { done, value } = await stderrReader.read();
        if (done) throw new Error(`receiver ended: ${stderr}`);
        stderr += new TextDecoder().decode(value);
        const m = /Listening on 127\.0\.0\.1:\d+ · code (\S+)|"type":"listening".*?"code":"([^"]+)"/.exec(stderr);
        code = m?.[1] ?? m?.[2] ?? "";
      }
      stderrReader.releaseLock();
      const output = new Response(receiver.stdout).arrayBuffer();
      const sender = Bun.spawn([...PARLEY, "send", "-", "--name", "piped.bin", "--to", code], {
        cwd: ROOT,
        stdin: Bun.file(file.path),
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await sender.exited).toBe(0);
      expect(await receiver.exited).toBe(0);
      const received = Buffer.from(await output);
      expect(createHash("sha256").update(received).digest("hex")).toBe(
        createHash("sha256").update(file.bytes).digest("hex"),
      );
      expect(await new Response(sender.stdout).text()).toContain(`total of ${file.bytes.length} bytes`);
    },
    TEST_MS,
  );

  test(
    "a sender whose output reader went away (| head -1) finishes the transfer and exits 0",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("headed.bin", 4 * 1024 * 1024);
      const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
      const code = await listeningCode(receiver);
      const sender = Bun.spawn([...PARLEY, "send", file.path, "--to", code, "--limit-rate", "16M"], {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      });
      const reader = sender.stdout.getReader();
      await reader.read(); // the first line, as `head -1` would
      await reader.cancel(); // and the pipe closes
      expect(await sender.exited).toBe(0);
      expect(await new Response(sender.stderr).text()).not.toContain("internal error");
      expect(await receiver.exitCode()).toBe(0);
      expect(readFileSync(join(dir, "headed.bin")).equals(file.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "a folder sent to receive --stdout is declined: one file only, and the summary claims no checksum",
    async () => {
      const root = join(makeTempDir(), "album");
      require("node:fs").mkdirSync(root);
      writeFileSync(join(root, "a.txt"), "a");
      const receiver = Bun.spawn([...PARLEY, "receive", "--stdout", "--json"], {
        cwd: ROOT,
        stdout: "pipe",
        stderr: "pipe",
      });
      const events = receiver.stderr.getReader();
      let seen = "";
      while (!/"code":"[^"]+"/.test(seen)) seen += new TextDecoder().decode((await events.read()).value);
      const code = /"code":"([^"]+)"/.exec(seen)?.[1] as string;
      events.releaseLock();
      const sender = startCli("sender", ["send", root, "--to", code]);
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exited).toBe(3);
      expect(sender.lines.some((l) => l.includes("--stdout takes one file, not a folder"))).toBe(true);
      expect(sender.lines.some((l) => l.includes("checksum matched"))).toBe(false);
      expect((await new Response(receiver.stdout).arrayBuffer()).byteLength).toBe(0);
    },
    TEST_MS,
  );

  test(
    "--ask answered n: REJECT on both sides, both exit 3, nothing saved",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("unwanted.bin", 1000);
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir, "--json"]);
      const code = await listeningCode(receiver);
      const sender = startCli("sender", ["send", file.path, "--to", code, "--json"]);
      await receiver.waitForStderr(/Accept unwanted\.bin \(1000 bytes\)\? \[y\/N\]/);
      receiver.send("n");
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      const senderError = events(sender).find((e) => e.type === "error") as Event;
      expect(senderError.code).toBe("E_REJECTED");
      expect(events(receiver).find((e) => e.type === "error")?.code).toBe("E_REJECTED");
      expect(require("node:fs").readdirSync(dir)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "--ask whose input ends (a closed terminal, < /dev/null): the sender is told nobody answered, not that the receiver said no",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("unasked.bin", 1000);
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const sender = startCli("sender", ["send", file.path, "--to", match[1] as string]);
      await receiver.waitForStderr(/\[y\/N\]/);
      receiver.endInput();
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      expect(sender.linesMatching(/failed/)).toEqual([
        "Sending #1 unasked.bin failed: the peer declined: nobody answered at the receiver (its input ended).",
      ]);
      expect(receiver.linesMatching(/failed/)).toEqual([
        "Receiving #1 unasked.bin failed: declined: nobody answered (the receiver's input ended).",
      ]);
    },
    TEST_MS,
  );

  test(
    "--ask answered y accepts; the sender is told, before its Sending line, that its offers wait for the answer",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("wanted.bin", 1000);
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const sender = startCli("sender", ["send", file.path, "--to", match[1] as string]);
      await receiver.waitForStderr(/\[y\/N\]/);
      // Said while the question waits (it stood silent after its Sending line before).
      const asks = await sender.waitForLine(/^The peer asks its user before taking each offer/);
      const sending = await sender.waitForLine(/^Sending #1 wanted\.bin/);
      expect(asks.line).toBe(PEER_ASKS);
      expect(asks.index).toBeLessThan(sending.index);
      receiver.send("y");
      expect(await sender.exitCode()).toBe(0);
      expect(await receiver.exitCode()).toBe(0);
      expect(readFileSync(join(dir, "wanted.bin")).equals(file.bytes)).toBe(true);
      expect(sender.lines.filter((l) => l === PEER_ASKS)).toHaveLength(1);
    },
    TEST_MS,
  );

  test(
    "the chat connected to a receive --ask says so too, once, after its connected lines",
    async () => {
      const dir = makeTempDir();
      const file = randomFile("chatted.bin", 1000);
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const chat = startCli("chat", ["--connect", match[1] as string]);
      const shown = await chat.waitForLine(/^Encrypted and verified with the code/);
      const asks = await chat.waitForLine(/^The peer asks its user/);
      expect(asks.index).toBe(shown.index + 1);
      expect(asks.line).toBe(PEER_ASKS);
      chat.send(`transfer ${file.path}`);
      await receiver.waitForStderr(/Accept chatted\.bin \(1000 bytes\)\? \[y\/N\] $/);
      receiver.send("y");
      await chat.waitForLine(/^#\d+ chatted\.bin: the receiver saved it/);
      chat.send("exit");
      expect(await chat.exitCode()).toBe(0);
      expect(await receiver.exitCode()).toBe(0);
      expect(readFileSync(join(dir, "chatted.bin")).equals(file.bytes)).toBe(true);
    },
    TEST_MS,
  );

  test(
    "a receiver that does not ask (no --ask, or --ask --yes) gets no such line at its sender",
    async () => {
      for (const flags of [[], ["--ask", "--yes"]]) {
        const dir = makeTempDir();
        const file = randomFile("taken.bin", 1000);
        const receiver = startCli("receiver", ["receive", ...flags, "--dir", dir]);
        const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
        const sender = startCli("sender", ["send", file.path, "--to", match[1] as string]);
        expect(await sender.exitCode()).toBe(0);
        expect(await receiver.exitCode()).toBe(0);
        expect(sender.stdout).toContain("Sending #1 taken.bin");
        expect(sender.stdout + sender.stderr).not.toContain("asks its user");
      }
    },
    TEST_MS,
  );

  test(
    "--ask with a folder asks once for the whole folder (not once per entry), then a file of the same command",
    async () => {
      const dir = makeTempDir();
      const src = makeTempDir();
      const folder = join(src, "album");
      require("node:fs").mkdirSync(folder);
      for (let i = 0; i < 20; i++) writeFileSync(join(folder, `${i}.txt`), `photo ${i}`);
      writeFileSync(join(src, "notes.txt"), "notes");
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const sender = startCli("sender", ["send", folder, join(src, "notes.txt"), "--to", match[1] as string]);
      await receiver.waitForStderr(/Accept folder album \(20 entries, 150 bytes\)\? \[y\/N\] $/);
      receiver.send("y");
      await receiver.waitForStderr(/Accept notes\.txt \(5 bytes\)\? \[y\/N\] $/);
      receiver.send("n");
      expect(await sender.exitCode()).toBe(3); // notes.txt was declined
      expect(await receiver.exitCode()).toBe(3);
      expect(receiver.stderr.match(/\[y\/N\]/g)).toHaveLength(2);
      expect(require("node:fs").readdirSync(join(dir, "album"))).toHaveLength(20);
      expect(require("node:fs").readdirSync(dir)).toEqual(["album"]);
    },
    TEST_MS,
  );

  test(
    "--ask answered n for a folder: each side says the folder was declined, by whom, once, naming no entry",
    async () => {
      const dir = makeTempDir();
      const folder = join(makeTempDir(), "album");
      require("node:fs").mkdirSync(folder);
      for (let i = 0; i < 20; i++) writeFileSync(join(folder, `${i}.txt`), `photo ${i}`);
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const sender = startCli("sender", ["send", folder, "--to", match[1] as string]);
      await receiver.waitForStderr(/Accept folder album \(20 entries, 150 bytes\)\? \[y\/N\] $/);
      receiver.send("n");
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      // The answer was to the folder: its line names the folder (it named the first entry of it,
      // "Sending #1 album/0.txt failed", then "19 more for the same reason").
      expect(sender.linesMatching(/failed/)).toEqual([
        "Sending folder album failed: the peer declined: the receiver said no.",
        "Folder album: nothing was saved. 20 of 20 entries failed (see above).",
      ]);
      expect(receiver.linesMatching(/failed/)).toEqual([
        "Receiving folder album failed: declined: the receiver said no.",
        "Folder album: nothing was saved. 20 of 20 entries failed (see above).",
      ]);
      // Nothing arrived: no totals line ("a total of 0 bytes"), as for one file that failed.
      expect(sender.linesMatching(/^The transfer command is done/)).toEqual([]);
      expect(receiver.linesMatching(/^The transfer command is done/)).toEqual([]);
      expect(require("node:fs").readdirSync(dir)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "--ask answered n for a folder, then y for a file: the sender ends the folder before it says the file's Sending line",
    async () => {
      const dir = makeTempDir();
      const src = makeTempDir();
      const folder = join(src, "album");
      mkdirSync(folder);
      for (let i = 0; i < 20; i++) writeFileSync(join(folder, `${i}.txt`), `photo ${i}`);
      writeFileSync(join(src, "notes.txt"), "notes");
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      receiver.send("n\ny");
      const sender = startCli("sender", ["send", folder, join(src, "notes.txt"), "--to", match[1] as string]);
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("notes");
      // Before: "Sending #33 notes.txt (5 bytes)." came between the folder's failure and its summary.
      expect(sender.linesMatching(/album|notes\.txt \(/), sender.describe()).toEqual([
        "Sending folder album: 20 entries, 150 bytes.",
        "Sending folder album failed: the peer declined: the receiver said no.",
        "Folder album: nothing was saved. 20 of 20 entries failed (see above).",
        expect.stringMatching(/^Sending #\d+ notes\.txt \(5 bytes\)\.$/),
      ]);
    },
    TEST_MS,
  );

  test(
    "--ask answered n for a folder of 40: the sender offers none of it after the answer (the rest counted with it)",
    async () => {
      const dir = makeTempDir();
      const folder = join(makeTempDir(), "big");
      require("node:fs").mkdirSync(folder);
      for (let i = 0; i < 40; i++) writeFileSync(join(folder, `${i}.txt`), "x");
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      const sender = startCli("sender", ["send", folder, "--json", "--to", match[1] as string]);
      await receiver.waitForStderr(/Accept folder big \(40 entries, 40 bytes\)\? \[y\/N\] $/);
      receiver.send("n");
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      const sent = events(sender);
      // 16 offers are in flight while the question waits; the answer ends the folder there (all 40 were offered before).
      expect(sent.filter((e) => e.type === "offer").length, sender.describe()).toBeLessThanOrEqual(17);
      const errors = sent.filter((e) => e.type === "error");
      // The folder's event, which named only the entry it was refused at ({id, name}: "big/0.txt"):
      // now its folder too, the entry's fields kept.
      expect(errors[0]).toMatchObject({
        code: "E_REJECTED",
        folderRest: 40 - sent.filter((e) => e.type === "offer").length,
        folder: { root: "big", group: expect.any(Number), entries: 40 },
        id: expect.any(Number),
        name: expect.any(String),
      });
      expect(receiver.linesMatching(/^Folder big/)).toEqual([
        "Folder big: nothing was saved. 40 of 40 entries failed (see above).",
      ]);
      expect(require("node:fs").readdirSync(dir)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    "--ask with piped answers and its output in one file (> log 2>&1): each question and its answer on a line of their own",
    async () => {
      const dir = makeTempDir();
      const src = makeTempDir();
      writeFileSync(join(src, "a.txt"), "aaa");
      writeFileSync(join(src, "b.txt"), "bbb");
      writeFileSync(join(src, "c.txt"), "ccc");
      const args = ["receive", "--ask", "--dir", dir];
      // stderr (the questions) into stdout (the other lines), as `> log 2>&1` does.
      const receiver = new Cli("receiver", args, ["sh", "-c", 'exec "$0" "$@" 2>&1', ...PARLEY, ...args]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      receiver.send("y\ny"); // two answers piped; the third question meets the end of input
      receiver.proc.stdin.end();
      const paths = ["a.txt", "b.txt", "c.txt"].map((n) => join(src, n));
      const sender = startCli("sender", ["send", ...paths, "--to", match[1] as string]);
      expect(await sender.exitCode()).toBe(3); // c.txt: nobody answered
      expect(await receiver.exitCode()).toBe(3);
      // Before: "Accept b.txt (3 bytes)? [y/N] Receiving #1 a.txt (3 bytes)." then "y" on a line of its own.
      expect(receiver.linesMatching(/Accept/), receiver.describe()).toEqual([
        "Accept a.txt (3 bytes)? [y/N] y",
        "Accept b.txt (3 bytes)? [y/N] y",
        "Accept c.txt (3 bytes)? [y/N] (input ended)",
      ]);
      expect(receiver.linesMatching(/^Receiving #\d+ [ab]\.txt \(3 bytes\)\.$/)).toHaveLength(2);
    },
    TEST_MS,
  );

  test(
    "--ask after its input ended: '(input ended)' once, the later offers declined without their questions, in one line on both sides",
    async () => {
      const dir = makeTempDir();
      const src = makeTempDir();
      for (const n of ["a", "b", "c", "d"]) writeFileSync(join(src, `${n}.txt`), n.repeat(3));
      mkdirSync(join(src, "album"));
      writeFileSync(join(src, "album", "1.txt"), "1");
      writeFileSync(join(src, "album", "2.txt"), "2");
      const args = ["receive", "--ask", "--dir", dir];
      const receiver = new Cli("receiver", args, ["sh", "-c", 'exec "$0" "$@" 2>&1', ...PARLEY, ...args]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      receiver.send("y"); // one answer piped: the second question meets the end of input
      receiver.proc.stdin.end();
      const paths = [...["a", "b", "c", "d"].map((n) => join(src, `${n}.txt`)), join(src, "album")];
      const sender = startCli("sender", ["send", ...paths, "--to", match[1] as string]);
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      // Before: each later question with "(input ended)", each with its failed line, and the folder's summary.
      expect(receiver.linesMatching(/Accept|failed|Declined|^Folder/), receiver.describe()).toEqual([
        "Accept a.txt (3 bytes)? [y/N] y",
        "Accept b.txt (3 bytes)? [y/N] (input ended)",
        "Receiving #3 b.txt failed: declined: nobody answered (the receiver's input ended).",
        "Declined 3 more offers without asking (the input had ended): #5 c.txt, #7 d.txt, folder album.",
        "The transfer command ended: 1 of 6 transfers saved by the receiver, 5 failed; the receiver has received a total of 3 bytes from the sender.",
      ]);
      // The sender too: before, a failed line for each of them, and the folder's "nothing was saved".
      expect(sender.linesMatching(/failed:|declined|^Folder|^All/), sender.describe()).toEqual([
        "Sending #3 b.txt failed: the peer declined: nobody answered at the receiver (its input ended).",
        "The receiver declined 3 more offers without asking (its input had ended): #5 c.txt, #7 d.txt, folder album.",
        "All 6 transfers of this command (2 of them entries of folders) have ended: 1 saved by the receiver, 5 failed.",
      ]);
      expect(readFileSync(join(dir, "a.txt"), "utf8")).toBe("aaa");
    },
    TEST_MS,
  );

  test(
    "--ask names a file and a folder as they will be stored, the name sent beside it: one name on every line",
    async () => {
      const dir = makeTempDir();
      const src = makeTempDir();
      writeFileSync(join(src, "a\x07b.txt"), "a");
      mkdirSync(join(src, ".config"));
      writeFileSync(join(src, ".config", "x"), "x");
      const receiver = startCli("receiver", ["receive", "--ask", "--dir", dir, "--no-progress"]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:\d+ · code (\S+)/);
      receiver.send("n\nn");
      const sender = startCli("sender", [
        "send",
        join(src, "a\x07b.txt"),
        join(src, ".config"),
        "--to",
        match[1] as string,
      ]);
      expect(await sender.exitCode()).toBe(3);
      expect(await receiver.exitCode()).toBe(3);
      // Before: 'Accept a^Gb.txt (1 byte)?' then 'Receiving #1 ab.txt failed: ...' (and '.config' / '_config').
      expect(
        receiver.stderr.split("\n").filter((l) => l.startsWith("Accept")),
        receiver.describe(),
      ).toEqual([
        'Accept ab.txt (1 byte; sent as "a\\u0007b.txt")? [y/N] n',
        'Accept folder _config (1 entry, 1 byte; sent as ".config")? [y/N] n',
      ]);
      expect(receiver.linesMatching(/failed/), receiver.describe()).toEqual([
        "Receiving #1 ab.txt failed: declined: the receiver said no.",
        "Receiving folder _config failed: declined: the receiver said no.",
        "Folder _config: nothing was saved. 1 of 1 entries failed (see above).",
      ]);
    },
    TEST_MS,
  );

  test(
    "exit codes: usage 1 with help, missing file 3, connection refused 2, SIGINT 130",
    async () => {
      const noPaths = startCli("usage", ["send"]);
      expect(await noPaths.exitCode()).toBe(1);
      expect(noPaths.stderr).toContain("Usage: parley send");
      const badFlag = startCli("usage", ["receive", "--bogus"]);
      expect(await badFlag.exitCode()).toBe(1);
      expect(badFlag.stderr).toContain("Usage: parley receive");

      const missing = startCli("missing", ["send", "/nonexistent/file", "--to", "1-ribbon-walnut", "--json"]);
      expect(await missing.exitCode()).toBe(3);
      expect(events(missing)[0]).toMatchObject({ type: "error", code: "E_NOT_FOUND" });

      const refused = startCli("refused", ["send", MAIN, "--to", `${closedPort()}-ribbon-walnut`, "--json"]);
      expect(await refused.exitCode()).toBe(2);
      expect(events(refused)[0]).toMatchObject({ type: "error", code: "E_CONNECT_REFUSED" });

      const waiting = startCli("waiting", ["receive", "--dir", makeTempDir()]);
      await waiting.waitForLine(/^Listening on/);
      waiting.kill("SIGINT");
      expect(await waiting.exitCode()).toBe(130);

      for (const cli of [noPaths, badFlag, missing, refused, waiting]) expect(cli.stderr).not.toContain("    at ");
    },
    TEST_MS,
  );

  test(
    "parley --help lists the commands with examples; parley send --help its options",
    async () => {
      const top = startCli("help", ["--help"]);
      expect(await top.exitCode()).toBe(0);
      const text = top.lines.join("\n");
      for (const word of ["parley send", "parley receive", "Examples", "Exit codes"]) expect(text).toContain(word);
      // 11.30: one help, one header, no pasted chat help, every example that dials gives a code.
      expect(text.match(/^Parley: /gm)).toHaveLength(1);
      expect(text).not.toContain("bun run chat [options]\n\nOptions");
      expect(text).not.toContain("Chat options");
      expect(text.match(/^Exit codes/gm)).toHaveLength(1);
      const dialing = /^\s+(PARLEY_CODE=\S+ )?parley .*(--to |--connect |receive \d)/;
      const examples = text.split("\n").filter((l) => dialing.test(l));
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        expect(example).toMatch(/\d+-[a-z]+-[a-z]+/);
      }
      const send = startCli("help", ["send", "--help"]);
      expect(await send.exitCode()).toBe(0);
      expect(send.lines.join("\n")).toContain("--to CODE");
      // It said "the relay path only": one side's --no-listen leaves the direct path the other side opens.
      const noListen = send.lines.findIndex((l) => l.trimStart().startsWith("--no-listen "));
      expect(send.lines.slice(noListen, noListen + 2).join(" ")).toMatch(
        /open no port for direct connections \(this side only dials the peer's\); +with it on both sides only the relay path remains$/,
      );
      // An unknown flag: one clean line of ours (no parser text, no unbalanced quotes), then the usage line.
      const bad = startCli("bad", ["send", "--frobnicate"]);
      expect(await bad.exitCode()).toBe(1);
      expect(bad.stderr.split("\n")[0]).toBe("parley: unknown option --frobnicate");
      expect(bad.stderr).not.toContain("'");
    },
    TEST_MS,
  );

  test(
    "the installed `parley` command (bin.cjs, run by Node) starts Bun, passes signals on and returns the exit code",
    async () => {
      const node = NODE;
      expect(node, "node is on every machine this project supports").toBeTruthy();
      const bin = join(ROOT, "src/cli/bin.cjs");
      const version = Bun.spawn([node as string, bin, "--version"], { stdout: "pipe", stderr: "pipe" });
      expect(await version.exited).toBe(0);
      expect(await new Response(version.stdout).text()).toMatch(/^parley \d+\.\d+\.\d+/);
      const receiver = Bun.spawn([node as string, bin, "receive", "--dir", makeTempDir()], {
        stdout: "pipe",
        stderr: "pipe",
      });
      const reader = receiver.stdout.getReader();
      let out = "";
      while (!out.includes("Listening on")) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`no Listening line: ${out}`);
        out += new TextDecoder().decode(value);
      }
      receiver.kill("SIGTERM");
      expect(await receiver.exited).toBe(143);
    },
    TEST_MS,
  );

  test(
    "a file that does not verify: the receiver says so, keeps nothing, exits 4",
    async () => {
      const dir = makeTempDir();
      const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
      // A hand-made sender (the real handshake, with the receiver's code) whose END carries a
      // wrong digest. Its nonce is the largest, so it leads and says READY.
      const code = await listeningCode(receiver);
      const raw = await rawParley(Number(code.split("-")[0]), { leader: true, words: code.replace(/^\d+-/, "") });
      const until = async (type: number) => {
        while (!raw.frames.some((f) => f.type === type)) await Bun.sleep(10);
      };
      raw.send(encodeMessage({ kind: "offer", id: 1, name: "forged.bin", size: 4, algo: "xxh3" }));
      await until(FrameType.Accept);
      raw.send(Buffer.concat([encodeDataHeader(1, 4), Buffer.from("abcd")]));
      raw.send(encodeMessage({ kind: "end", id: 1, bytes: 4, algo: "xxh3", digest: "0000000000000000" }));
      await until(FrameType.Received);
      raw.send(encodeMessage({ kind: "bye", reason: "exit" }));
      const socket = raw.socket;
      expect(await receiver.exitCode()).toBe(4);
      socket.destroy();
      expect(events(receiver).find((e) => e.type === "error")).toMatchObject({ code: "E_BAD_CHECKSUM" });
      expect(require("node:fs").readdirSync(dir)).toEqual([]);
    },
    TEST_MS,
  );
});

test("send --text over 64 KiB is wrong usage: one line and the usage line, exit 1, nothing contacted", async () => {
  const text = "a".repeat(64 * 1024 + 1);
  const human = startCli("send", ["send", "--text", text, "--to", `${closedPort()}-ribbon-walnut`]);
  expect(await human.exitCode()).toBe(1);
  expect(human.stdout).toBe("");
  expect(human.stderr.split("\n")[0]).toBe(
    "parley: --text is longer than a chat line may be (64 KiB of UTF-8): send it as a file, or from standard input with parley send - --name NAME",
  );
  expect(human.stderr).toMatch(/^Usage: parley send /m);
  const json = startCli("send", ["send", "--json", "--text", text]);
  expect(await json.exitCode()).toBe(1);
  expect(JSON.parse(json.lines[0] as string)).toMatchObject({ type: "error", code: "E_USAGE" });
}, 30_000);

test("send - --name takes a file name's length (more than a peer name's 64 characters), and refuses a path", async () => {
  const dir = makeTempDir();
  const name = `backup-of-the-whole-project-folder-${"x".repeat(40)}-2026-12-03.tar.gz`;
  const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
  const code = await listeningCode(receiver);
  const sender = Bun.spawn([...PARLEY, "send", "-", "--name", name, "--to", code], {
    cwd: ROOT,
    stdin: new Blob(["piped bytes"]),
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await sender.exited, await new Response(sender.stderr).text()).toBe(0);
  expect(await receiver.exitCode()).toBe(0);
  expect(readFileSync(join(dir, name), "utf8")).toBe("piped bytes");
  for (const [bad, said] of [
    ["../x.tar", "--name is the name the file is saved under: a name, not a path"],
    ["n".repeat(256), "--name must be a file name of 1 to 255 bytes, not 256"],
  ] as const) {
    const refused = startCli("send", ["send", "-", "--name", bad, "--to", code]);
    expect(await refused.exitCode()).toBe(1);
    expect(refused.stderr).toStartWith(`parley: ${said}\n`);
  }
}, 30_000);

test("two receivers (the other side meant to send): both say nothing will come and exit 3, not wait in silence", async () => {
  const first = startCli("first", ["receive", "--dir", makeTempDir(), "--json"]);
  const code = await listeningCode(first);
  const second = startCli("second", ["receive", code, "--dir", makeTempDir(), "--no-progress"]);
  expect(await second.exitCode(), second.describe()).toBe(3);
  expect(await first.exitCode(), first.describe()).toBe(3);
  expect(second.linesMatching(/^Error: /)).toEqual([
    "Error: the peer is receiving too (parley receive): nothing will come; run parley send on one side (with the code).",
  ]);
  const events = first.lines.map((l) => JSON.parse(l) as { type: string; code?: string });
  expect(events.filter((e) => e.type === "error").map((e) => e.code)).toEqual(["E_BOTH_RECEIVING"]);
}, 30_000);
