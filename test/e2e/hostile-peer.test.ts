/**
 * A crafted peer, built from the protocol and crypto modules, that has the code (so it gets
 * through the handshake) and then misbehaves: dangerous names, escape sequences in names and
 * chat, an oversized frame; and random or mutated frames for a bounded time. The receiving
 * CLI must neutralise all of it, say so in one line when it closes, and never crash or hang.
 * Plus: what crosses the wire is ciphertext only.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeDataHeader, encodeFrame, encodeMessage, FrameType } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { startRelay } from "../relay.ts";
import { cleanup, makeTempDir, rawLeaderInto, startCli, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const wordsOf = (code: string) => code.replace(/^\d+-/, "");

describe("a hostile peer with the code", () => {
  test(
    "its LEAVING and BYE reasons are quoted and cut unless they are plain words: they cannot read as lines of ours",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      // 200 characters of the peer's choosing inside our own sentence: before, the line read
      // "raw is leaving (exit). Connected to mallory directly at 10.0.0.1:80. Transfer #3 saved...".
      const fake = "exit). Connected to mallory directly at 10.0.0.1:80. Transfer #3 saved: checksum matched (";
      raw.send(encodeMessage({ kind: "leaving", reason: fake }));
      await b.cli.waitForLine(/^raw is leaving /);
      // Under 40, with quotes of its own: before session 30 it read 'raw left ("exit"). Transfer #3
      // saved: ok ("^J"). Connection closed.', a sentence of ours between two quoted reasons.
      raw.send(encodeMessage({ kind: "bye", reason: 'exit"). Transfer #3 saved: ok ("\n' }));
      expect(await b.cli.exitCode()).toBe(0);
      const said = b.cli.lines.filter((l) => /^raw (is leaving|left) /.test(l));
      expect(said, b.cli.describe()).toEqual([
        'raw is leaving ("exit). Connected to mallory directly at …"): the connection closes once the transfers under way have ended; raw sends no more lines, and new transfers are declined.',
        'raw left ("exit\\"). Transfer #3 saved: ok (\\"^J"). Connection closed.',
      ]);
    },
    TEST_MS,
  );

  test(
    "its chat lines after its LEAVING are not shown (a Parley sends none): said once, in our words",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      raw.send(encodeMessage({ kind: "chat", text: "a line before" }));
      raw.send(encodeMessage({ kind: "leaving", reason: "exit" }));
      await b.cli.waitForLine(/^raw is leaving \(exit\)/);
      // Under "raw sends no more lines": before, each was shown as raw's line.
      for (const text of ["Transfer #3 saved: checksum matched", "and another"]) {
        raw.send(encodeMessage({ kind: "chat", text }));
      }
      raw.send(encodeMessage({ kind: "bye", reason: "exit" }));
      expect(await b.cli.exitCode()).toBe(0);
      expect(b.cli.lines, b.cli.describe()).toContain("<raw> a line before");
      expect(b.cli.lines.filter((l) => l.startsWith("<raw>"))).toEqual(["<raw> a line before"]);
      expect(
        b.cli.lines.filter((l) => l.includes("after saying it was leaving")),
        b.cli.describe(),
      ).toEqual([
        "raw sent a line after saying it was leaving: not shown, nor any after it (a Parley sends none then).",
      ]);
    },
    TEST_MS,
  );

  test(
    "parley receive: its chat lines after its LEAVING are not shown either, said once as the chat says it",
    async () => {
      const receiver = startCli("receiver", ["receive", "--no-progress", "--dir", makeTempDir()]);
      const { match } = await receiver.waitForLine(/^Listening on 127\.0\.0\.1:(\d+) · code (\d+-[a-z]+-[a-z]+)$/);
      const raw = await rawParley(Number(match[1]), { leader: true, words: wordsOf(match[2] as string) });
      await receiver.waitForLine(/^Connected to raw /);
      raw.send(encodeMessage({ kind: "chat", text: "a line before" }));
      raw.send(encodeMessage({ kind: "leaving", reason: "exit" }));
      raw.send(encodeMessage({ kind: "chat", text: "Saved /tmp/x.bin; XXH3-64 checksum matched" }));
      raw.send(encodeMessage({ kind: "bye", reason: "done" }));
      await receiver.exitCode();
      const all = [...receiver.lines, ...receiver.stderr.split("\n")];
      expect(all.filter((l) => l.includes("a line before")).length, receiver.describe()).toBe(1);
      expect(all.filter((l) => l.includes("checksum matched"))).toEqual([]);
      expect(all.filter((l) => l.includes("after saying it was leaving"))).toEqual([
        "The peer sent a line after saying it was leaving: not shown, nor any after it (a Parley sends none then).",
      ]);
    },
    TEST_MS,
  );

  test(
    "names with ../, absolute paths and escape codes, and escape-laden chat, are neutralised",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      const names = ["../../x.txt", "/etc/passwd", "\x1b]0;pwned\x07evil\x1b[31m.txt", "..", "a\\b\\c.txt"];
      let id = 1;
      for (const name of names) {
        raw.send(encodeMessage({ kind: "offer", id, name, size: 3, algo: "xxh3" }));
        while (
          !raw.frames.some(
            (f) => f.type === FrameType.Accept && new TextDecoder().decode(f.payload).includes(`"id":${id}`),
          )
        ) {
          await Bun.sleep(5);
        }
        raw.send(Buffer.concat([encodeDataHeader(id, 3), Buffer.from("abc")]));
        const { createDigest } = await import("../../src/transfer/checksum.ts");
        const d = createDigest("xxh3");
        d.update(Buffer.from("abc"));
        raw.send(encodeMessage({ kind: "end", id, bytes: 3, algo: "xxh3", digest: d.hex() }));
        id += 2;
      }
      raw.send(encodeMessage({ kind: "chat", text: "\x1b[2J\x1b]52;c;ZXZpbA==\x07 hello" }));
      await b.cli.waitForLine(/^<raw> \^\[\[2J\^\[\]52;c;ZXZpbA==\^G hello$/);
      while (b.cli.linesMatching(/^Saved /).length < names.length) await Bun.sleep(10);
      const saved = readdirSync(b.dir).sort();
      // Separators and ".." gone, control characters (ESC, BEL) removed; the printable rest stays.
      expect(saved).toEqual(["]0;pwnedevil[31m.txt", "c.txt", "passwd", "received-file", "x.txt"].sort());
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters
      expect(saved.filter((n) => /[\u0000-\u001f\u007f]/.test(n))).toEqual([]);
      expect(existsSync(join(b.dir, "..", "x.txt"))).toBe(false);
      // Nothing raw reached the terminal: no ESC or BEL in anything bob printed.
      expect(b.cli.stdout.includes("\x1b")).toBe(false);
      expect(b.cli.stdout.includes("\x07")).toBe(false);
    },
    TEST_MS,
  );

  test(
    "an oversized frame: the connection closes with the reason, the CLI says so in one line",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      raw.send(encodeFrame(FrameType.Chat, new Uint8Array(0)).fill(0x7f, 0, 4));
      await b.cli.waitForLine(/^Connection lost: the peer broke the protocol \(frame of \d+ bytes exceeds the limit/);
      expect(await b.cli.exitCode()).toBe(1);
      expect(b.cli.stderr).not.toContain("    at ");
    },
    TEST_MS,
  );

  test(
    "random and mutated frames for a while: every connection ends cleanly, the CLI never crashes",
    async () => {
      // A seeded generator: the same bytes every run.
      let seed = 0x9e3779b9;
      const rand = () => {
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
      };
      const valid = [
        encodeMessage({ kind: "chat", text: "hi" }),
        encodeMessage({ kind: "offer", id: 1, name: "f.bin", size: 10, algo: "xxh3" }),
        encodeMessage({ kind: "ack", bytes: 0 }),
        encodeMessage({ kind: "ping", token: new Uint8Array(8) }),
        encodeMessage({ kind: "end", id: 1, bytes: 10, algo: "xxh3", digest: "00" }),
      ];
      const deadline = Date.now() + 3_000;
      let rounds = 0;
      while (Date.now() < deadline) {
        const b = await startPeer(`target${rounds}`);
        const raw = await rawLeaderInto(b);
        for (let i = 0; i < 50; i++) {
          const base = Uint8Array.from(valid[Math.floor(rand() * valid.length)] as Uint8Array);
          const mutated =
            rand() < 0.3 ? Uint8Array.from({ length: 1 + Math.floor(rand() * 64) }, () => rand() * 256) : base;
          for (let m = 0; m < 3; m++) mutated[Math.floor(rand() * mutated.length)] = Math.floor(rand() * 256);
          raw.send(mutated);
        }
        const code = await b.cli.exitCode(2_000).catch(() => -1);
        // Either it closed the connection with a reason (exit 1) or it is still fine (killed by cleanup).
        if (code !== -1) expect(code, b.cli.describe()).toBe(1);
        expect(b.cli.stderr).not.toContain("    at ");
        expect(b.cli.stderr).not.toContain("internal error");
        raw.socket.destroy();
        rounds++;
      }
      expect(rounds).toBeGreaterThan(0);
    },
    TEST_MS,
  );

  test(
    "a command tag that promises transfers which never come: no hang, and the totals of what arrived are said once it leaves",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      const { createDigest } = await import("../../src/transfer/checksum.ts");
      // Two offers of command 1, said to have 2^53 - 1 transfers; seq 1 again for the second.
      const command = { seq: 1, transfers: Number.MAX_SAFE_INTEGER };
      for (const id of [1, 3]) {
        raw.send(encodeMessage({ kind: "offer", id, name: `c${id}.txt`, size: 3, algo: "xxh3", command }));
        while (
          !raw.frames.some(
            (f) => f.type === FrameType.Accept && new TextDecoder().decode(f.payload).includes(`"id":${id}`),
          )
        ) {
          await Bun.sleep(5);
        }
        const d = createDigest("xxh3");
        d.update(Buffer.from("abc"));
        raw.send(Buffer.concat([encodeDataHeader(id, 3), Buffer.from("abc")]));
        raw.send(encodeMessage({ kind: "end", id, bytes: 3, algo: "xxh3", digest: d.hex() }));
      }
      while (b.cli.linesMatching(/^Saved /).length < 2) await Bun.sleep(10);
      expect(b.cli.linesMatching(/^The transfer command/)).toEqual([]);
      raw.send(encodeMessage({ kind: "bye", reason: "done" }));
      await b.cli.waitForLine(/^The transfer command is incomplete/);
      expect(b.cli.linesMatching(/^The transfer command/)).toEqual([
        `The transfer command is incomplete: 2 of ${Number.MAX_SAFE_INTEGER} transfers saved by the receiver, 0 failed, ${Number.MAX_SAFE_INTEGER - 2} never came; the receiver has received a total of 6 bytes from the sender.`,
      ]);
    },
    TEST_MS,
  );

  test(
    "a folder accepted as a whole cannot grow: an entry past its announced count, or telling its folder otherwise, ends the connection; nothing of it is stored",
    async () => {
      const { createDigest } = await import("../../src/transfer/checksum.ts");
      const d = createDigest("xxh3");
      d.update(Buffer.from("abc"));
      const digest = d.hex();
      const album = { group: 1, root: "album", entries: 2, bytes: 6 };
      for (const [extra, reason] of [
        [{ ...album, path: ["c.txt"] }, "announced 2 entries, then offered more"],
        [{ ...album, bytes: 6_000_000_000, path: ["c.txt"] }, "tells another name, count or size"],
      ] as const) {
        const b = await startPeer("bob");
        const raw = await rawLeaderInto(b);
        const entries = reason.startsWith("announced") ? [["a.txt"], ["b.txt"]] : [["a.txt"]];
        let id = 1;
        for (const path of entries) {
          raw.send(
            encodeMessage({
              kind: "offer",
              id,
              name: path[0] as string,
              size: 3,
              algo: "xxh3",
              folder: { ...album, path },
            }),
          );
          while (
            !raw.frames.some(
              (f) => f.type === FrameType.Accept && new TextDecoder().decode(f.payload).includes(`"id":${id}`),
            )
          ) {
            await Bun.sleep(5);
          }
          raw.send(Buffer.concat([encodeDataHeader(id, 3), Buffer.from("abc")]));
          raw.send(encodeMessage({ kind: "end", id, bytes: 3, algo: "xxh3", digest }));
          id += 2;
        }
        // The whole folder ended (its line), or the one entry sent so far was taken in.
        if (entries.length === 2) await b.cli.waitForLine(/^Saved folder .*album: 2 entries/);
        raw.send(encodeMessage({ kind: "offer", id, name: "c.txt", size: 3, algo: "xxh3", folder: extra }));
        await b.cli.waitForLine(new RegExp(`^Connection lost: the peer broke the protocol \\(.*${reason}`));
        expect(await b.cli.exitCode()).toBe(1);
        expect(b.cli.stderr).not.toContain("    at ");
        expect(readdirSync(join(b.dir, "album")).filter((n) => n.startsWith("c"))).toEqual([]);
        raw.socket.destroy();
      }
    },
    TEST_MS,
  );
});

describe("a hostile peer's CANCEL bytes", () => {
  test(
    "more bytes said to reach the receiver's output than were sent end the connection; a sender's are not shown",
    async () => {
      const b = await startPeer("bob");
      const raw = await rawLeaderInto(b);
      // raw as a sender: its CANCEL names what reached an output, which only a receiver has.
      raw.send(encodeMessage({ kind: "offer", id: 1, name: "s.txt", size: 3, algo: "xxh3" }));
      while (!raw.frames.some((f) => f.type === FrameType.Accept)) await Bun.sleep(5);
      raw.send(encodeMessage({ kind: "cancel", id: 1, code: "E_WRITE", detail: "EIO", bytes: 5 }));
      await b.cli.waitForLine(/the sender could not/);
      expect(b.cli.stdout).not.toContain("reached it");
      // raw as a receiver of bob's 3-byte file: 4,096 bytes "reached its output".
      const src = join(makeTempDir(), "r.txt");
      writeFileSync(src, "abc");
      b.cli.send(`transfer ${src}`);
      const offerOf = () => raw.frames.find((f) => f.type === FrameType.Offer);
      while (!offerOf()) await Bun.sleep(5);
      const id = JSON.parse(new TextDecoder().decode(offerOf()?.payload)).id as number;
      raw.send(encodeMessage({ kind: "accept", id, offset: 0 }));
      raw.send(encodeMessage({ kind: "cancel", id, code: "E_WRITE", detail: "ENOSPC", bytes: 4096 }));
      await b.cli.waitForLine(
        /^Connection lost: the peer broke the protocol \(CANCEL says 4096 bytes reached the receiver's output, more than the [03] sent/,
      );
      expect(b.cli.stdout).not.toContain("4096 of the");
      expect(await b.cli.exitCode()).toBe(1);
    },
    TEST_MS,
  );
});

describe("on the wire", () => {
  test(
    "a recording proxy sees neither the chat text nor the file bytes in clear",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      const recorded: Buffer[] = [];
      const record = (chunk: Uint8Array) => {
        recorded.push(Buffer.from(chunk));
        return chunk;
      };
      const relay = await startRelay(b.port, record, record);
      try {
        a.cli.send(`${relay.port}-${wordsOf(b.code)}`);
        await b.cli.waitForLine(/^Encrypted and verified with the code/);
        a.cli.send("the eagle lands at midnight");
        await b.cli.waitForLine(/^<alice> the eagle lands at midnight$/);
        const src = join(makeTempDir(), "plans.txt");
        const marker = "TOP-SECRET-MARKER-".repeat(1000);
        writeFileSync(src, marker);
        a.cli.send(`transfer ${src}`);
        await b.cli.waitForLine(/^Saved .+plans\.txt/);
        const wire = Buffer.concat(recorded);
        expect(wire.length).toBeGreaterThan(18_000);
        expect(wire.includes("eagle lands")).toBe(false);
        expect(wire.includes("TOP-SECRET-MARKER")).toBe(false);
        expect(wire.includes("plans.txt")).toBe(false); // file names are sealed too
      } finally {
        relay.stop();
      }
    },
    TEST_MS,
  );
});
