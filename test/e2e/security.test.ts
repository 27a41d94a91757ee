/**
 * Codes, PAKE and sealed records through the real CLI: the right code gives a verified,
 * encrypted session with the same verification digits on both sides; a wrong code moves no
 * data and three of them stop the listener; a listener beyond loopback needs the code; the
 * code can stay out of argv; a byte flipped on the wire is caught.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { startRelay } from "../relay.ts";
import { cleanup, MAIN, makeTempDir, type Peer, startCli, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;

function wrongWords(code: string): string {
  const [port, first] = code.split("-") as [string, string];
  return `${port}-${first === "abandon" ? "ability" : "abandon"}-zoo`;
}

async function connectWith(a: Peer, b: Peer, what: string): Promise<void> {
  a.cli.send(what);
  await Promise.all([a.cli.waitForLine(/^Connected to/), b.cli.waitForLine(/^Connected to/)]);
}

describe("codes", () => {
  test(
    "the right code: encrypted and verified, both sides show the same digits, chat flows",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      await connectWith(a, b, b.code);
      const da = await a.cli.waitForLine(/^Encrypted and verified with the code\. Both sides show (\d{3} \d{3})/);
      const db = await b.cli.waitForLine(/^Encrypted and verified with the code\. Both sides show (\d{3} \d{3})/);
      expect(da.match[1]).toBe(db.match[1] as string);
      a.cli.send("secret plans");
      await b.cli.waitForLine(/^<alice> secret plans$/);
    },
    TEST_MS,
  );

  test(
    "the port alone is no way in: typed, it asks for the whole code; dialed anyway, the listener refuses",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      a.cli.send(String(b.port));
      await a.cli.waitForLine(/^A port alone is not enough: type the whole code the peer's Parley shows, like 40123-/);
      // A dialer that insists on the port alone (as any local user could) is refused by bob.
      const intruder = await startPeer("intruder", ["--insecure-port-only"]);
      intruder.cli.send(String(b.port));
      await intruder.cli.waitForLine(/refused the connection \(this listener needs its code, not just the port\)/);
      await b.cli.waitForLine(/^Dropped a connection from .*refused: the peer gave the port without the code/);
      expect(b.cli.linesMatching(/^Connected to/)).toEqual([]);
      // The same for a one-shot receiver and sender: nothing is pushed in, nothing taken.
      const dir = makeTempDir();
      const receiver = startCli("receiver", ["receive", "--dir", dir, "--json"]);
      const { line } = await receiver.waitForLine(/"type":"listening"/);
      const port = (JSON.parse(line) as { port: number }).port;
      const pusher = startCli("pusher", ["send", MAIN, "--to", String(port), "--insecure-port-only", "--json"]);
      expect(await pusher.exitCode()).toBe(2);
      expect(readdirSync(dir)).toEqual([]);
      const plain = startCli("plain", ["send", MAIN, "--to", String(port)]);
      expect(await plain.exitCode()).toBe(1);
      expect(plain.stderr).toContain("only a port: give the whole code");
      receiver.kill("SIGINT");
      await receiver.exitCode();
    },
    TEST_MS,
  );

  test(
    "--insecure-port-only on both sides: the port alone connects, clearly marked unverified",
    async () => {
      const [a, b] = await Promise.all([
        startPeer("alice", ["--insecure-port-only"]),
        startPeer("bob", ["--insecure-port-only"]),
      ]);
      await connectWith(a, b, String(b.port));
      await a.cli.waitForLine(/^Encrypted, but not verified: connected by port only/);
      await b.cli.waitForLine(/^Encrypted, but not verified: connected by port only/);
    },
    TEST_MS,
  );

  test(
    "a wrong code: both sides say so, no data moves; the dialer tries again with the right one",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      a.cli.send(wrongWords(b.code));
      await a.cli.waitForLine(/^Wrong code: the peer's Parley did not accept it/);
      await b.cli.waitForLine(
        /^Wrong code from 127\.0\.0\.1:\d+ \(1 of 3\): no chat or file data was exchanged; still listening with the same code: if that was your peer, ask them to check it and type it again\.$/,
      );
      expect(a.cli.linesMatching(/^Connected to/)).toEqual([]);
      await connectWith(a, b, b.code);
      a.cli.send("now it works");
      await b.cli.waitForLine(/^<alice> now it works$/);
    },
    TEST_MS,
  );

  test(
    "three wrong codes stop the listener (exit 2); garbage connections do not count",
    async () => {
      const b = await startPeer("bob");
      for (let i = 1; i <= 3; i++) {
        // A stranger in between: dropped, not counted.
        await new Promise<void>((resolve) => {
          const s = connect(b.port, "127.0.0.1", () => s.end("GET / HTTP/1.1\r\n\r\n"));
          s.on("close", () => resolve());
          s.on("error", () => resolve());
        });
        await b.cli.waitForLine(/^Dropped a connection from .*not a Parley peer/, 10_000, 0);
        const a = await startPeer(`guesser${i}`);
        a.cli.send(wrongWords(b.code));
        await b.cli.waitForLine(new RegExp(`^Wrong code from 127\\.0\\.0\\.1:\\d+ \\(${i} of 3\\)`));
        a.cli.send("exit");
      }
      await b.cli.waitForLine(/^3 wrong codes: stopped listening/);
      expect(await b.cli.exitCode()).toBe(2);
    },
    TEST_MS,
  );

  test(
    "a listener on 0.0.0.0 needs the code: the port alone is refused, the code works",
    async () => {
      const b = startCli("bob", ["--host", "0.0.0.0", "--dir", makeTempDir(), "--name", "bob", "--no-progress"]);
      const { match } = await b.waitForLine(
        /^Listening on 0\.0\.0\.0:(\d+) \(a peer can use: .+\) · code (\S+):(\d+-[a-z]+-[a-z]+)$/,
      );
      const port = match[1] as string;
      const code = match[3] as string;
      const a = await startPeer("alice", ["--insecure-port-only"]);
      a.cli.send(port);
      await a.cli.waitForLine(/refused the connection \(this listener needs its code, not just the port\)/);
      await b.waitForLine(/refused: the peer gave the port without the code/);
      a.cli.send(`127.0.0.1:${code}`);
      await a.cli.waitForLine(/^Encrypted and verified with the code/);
      await b.waitForLine(/^Encrypted and verified with the code/);
    },
    TEST_MS,
  );

  test(
    "the code from PARLEY_CODE or --code-file with --connect PORT: verified, and nothing in argv",
    async () => {
      const b = await startPeer("bob");
      const viaEnv = startCliEnv("alice", ["--connect", String(b.port), "--dir", makeTempDir(), "--no-progress"], {
        PARLEY_CODE: b.code,
      });
      await viaEnv.waitForLine(/^Encrypted and verified with the code/);
      expect(viaEnv.linesMatching(/^Note: the code is on this command line/)).toEqual([]);
      viaEnv.send("exit");
      expect(await viaEnv.exitCode()).toBe(0);

      const c = await startPeer("carol");
      const file = join(makeTempDir(), "code.txt");
      writeFileSync(file, `${c.code}\n`);
      const viaFile = startCli("dave", ["--connect", String(c.port), "--code-file", file, "--dir", makeTempDir()]);
      await viaFile.waitForLine(/^Encrypted and verified with the code/);

      const d = await startPeer("erin");
      const inArgv = startCli("frank", ["--connect", d.code, "--dir", makeTempDir()]);
      await inArgv.waitForLine(/^Note: the code is on this command line, which other users of this machine can see/);
      await inArgv.waitForLine(/^Encrypted and verified with the code/);
    },
    TEST_MS,
  );
});

describe("on the wire", () => {
  test(
    "a byte flipped in transit after the handshake: integrity error, the connection ends, nothing saved",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      let forwarded = 0;
      const relay = await startRelay(b.port, (chunk) => {
        const at = 300_000 - forwarded; // well inside the file's records
        if (at >= 0 && at < chunk.length) chunk[at] = (chunk[at] as number) ^ 0x10;
        forwarded += chunk.length;
        return chunk;
      });
      try {
        const words = b.code.replace(/^\d+-/, "");
        a.cli.send(`${relay.port}-${words}`);
        await b.cli.waitForLine(/^Encrypted and verified with the code/);
        const src = join(makeTempDir(), "tampered.bin");
        writeFileSync(src, new Uint8Array(2 * 1024 * 1024).fill(1));
        a.cli.send(`transfer ${src}`);
        await b.cli.waitForLine(/^Connection lost: .*integrity error/);
        expect(existsSync(join(b.dir, "tampered.bin"))).toBe(false);
      } finally {
        relay.stop();
      }
    },
    TEST_MS,
  );
});

describe("a man in the middle without the code", () => {
  test(
    "changing the dialer's name in its HELLO on the way makes the key confirmation fail on both sides",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      const relay = await startRelay(b.port, (chunk) => {
        const text = Buffer.from(chunk);
        const at = text.indexOf("alice");
        if (at >= 0) text.write("mally", at);
        return new Uint8Array(text);
      });
      try {
        a.cli.send(`${relay.port}-${b.code.replace(/^\d+-/, "")}`);
        await a.cli.waitForLine(/^Wrong code: the peer's Parley did not accept it/);
        await b.cli.waitForLine(/^Wrong code from 127\.0\.0\.1:\d+ \(1 of 3\)/);
        expect(b.cli.linesMatching(/^Connected to/)).toEqual([]);
      } finally {
        relay.stop();
      }
    },
    TEST_MS,
  );
});

describe("hostile names", () => {
  test(
    "a symlink already in the download dir is never written through",
    async () => {
      const [a, b] = await Promise.all([startPeer("alice"), startPeer("bob")]);
      const outside = join(makeTempDir(), "victim.txt");
      writeFileSync(outside, "untouched");
      symlinkSync(outside, join(b.dir, "evil.txt.part"));
      symlinkSync(outside, join(b.dir, "evil.txt"));
      await connectWith(a, b, b.code);
      const src = join(makeTempDir(), "evil.txt");
      writeFileSync(src, "payload");
      a.cli.send(`transfer ${src}`);
      const { match } = await b.cli.waitForLine(/^Saved (.+); XXH3-64 checksum matched/);
      expect(match[1]).toBe(join(b.dir, "evil (1).txt"));
      expect(readFileSync(outside, "utf8")).toBe("untouched");
      expect(existsSync(join(b.dir, "evil (1).txt"))).toBe(true);
    },
    TEST_MS,
  );
});

function startCliEnv(label: string, args: string[], env: Record<string, string>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return startCli(label, args);
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}
