/**
 * Two sessions over real loopback sockets: chat, transfers of many sizes compared byte for
 * byte, transfers both ways at once, simultaneous dial, exit, and hostile bytes.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { dial, listen } from "../../src/net/index.ts";
import { connectedPair, TestPeer, writeRandomFile } from "./peers.ts";

const peers: TestPeer[] = [];
afterEach(() => {
  for (const p of peers.splice(0)) p.close();
});

async function pair(): Promise<[TestPeer, TestPeer]> {
  const [a, b] = await connectedPair();
  peers.push(a, b);
  return [a, b];
}

describe("chat", () => {
  test("lines go both ways, in order", async () => {
    const [a, b] = await pair();
    for (let i = 0; i < 50; i++) a.session?.sendChat(`a${i} ünïcode ✓`);
    b.session?.sendChat("hello from b");
    await a.waitFor("chat", (e) => e.text === "hello from b");
    await b.waitFor("chat", (e) => e.text === "a49 ünïcode ✓");
    const got = b.events.filter((e) => e.type === "chat").map((e) => (e as { text: string }).text);
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `a${i} ünïcode ✓`));
  });
});

describe("transfer", () => {
  test.each([
    ["0 B", 0],
    ["1 B", 1],
    ["1 MiB + 1", (1 << 20) + 1],
    ["64 MiB", 64 << 20],
  ])("%s arrives byte for byte with verified totals on both sides", async (_label, size) => {
    const [a, b] = await pair();
    const src = join(a.dir, "source.bin");
    const bytes = writeRandomFile(src, size);
    a.session?.sendFile(src);
    const received = await b.waitFor("finished", undefined, 60_000);
    const sent = await a.waitFor("finished", undefined, 60_000);
    expect(received.done.bytes).toBe(size);
    expect(sent.done.bytes).toBe(size);
    expect(received.done.path).toBe(join(b.dir, "source.bin"));
    expect(received.done.digest).toBe(new Bun.CryptoHasher("sha256").update(bytes).digest("hex"));
    expect(sent.done.digest).toBe(received.done.digest);
    expect(Buffer.compare(readFileSync(join(b.dir, "source.bin")), bytes)).toBe(0);
    expect(readdirSync(b.dir)).toEqual(["source.bin"]); // no .part left behind
  });

  test("an existing file is never overwritten: the new one gets a numbered name", async () => {
    const [a, b] = await pair();
    writeFileSync(join(b.dir, "notes.txt"), "original");
    writeFileSync(join(b.dir, "notes (1).txt"), "also original");
    const src = join(a.dir, "notes.txt");
    writeFileSync(src, "new content");
    a.session?.sendFile(src);
    const received = await b.waitFor("finished");
    expect(received.done.path).toBe(join(b.dir, "notes (2).txt"));
    expect(readFileSync(join(b.dir, "notes.txt"), "utf8")).toBe("original");
    expect(readFileSync(join(b.dir, "notes (1).txt"), "utf8")).toBe("also original");
    expect(readFileSync(join(b.dir, "notes (2).txt"), "utf8")).toBe("new content");
  });

  test("two transfers at once, one each way, while chatting", async () => {
    const [a, b] = await pair();
    const fromA = writeRandomFile(join(a.dir, "from-a.bin"), 24 << 20);
    const fromB = writeRandomFile(join(b.dir, "from-b.bin"), 16 << 20);
    a.session?.sendFile(join(a.dir, "from-a.bin"));
    b.session?.sendFile(join(b.dir, "from-b.bin"));
    for (let i = 0; i < 20; i++) a.session?.sendChat(`during ${i}`);
    await b.waitFor("finished", (e) => e.done.direction === "receive", 60_000);
    await a.waitFor("finished", (e) => e.done.direction === "receive", 60_000);
    await a.waitFor("finished", (e) => e.done.direction === "send", 60_000);
    await b.waitFor("finished", (e) => e.done.direction === "send", 60_000);
    expect(Buffer.compare(readFileSync(join(b.dir, "from-a.bin")), fromA)).toBe(0);
    expect(Buffer.compare(readFileSync(join(a.dir, "from-b.bin")), fromB)).toBe(0);
    expect(b.events.filter((e) => e.type === "chat")).toHaveLength(20);
  });

  test("a missing file or a directory is refused before anything is sent", async () => {
    const [a] = await pair();
    expect(() => a.session?.sendFile(join(a.dir, "nope"))).toThrow(expect.objectContaining({ code: "E_NOT_FOUND" }));
    expect(() => a.session?.sendFile(a.dir)).toThrow(expect.objectContaining({ code: "E_NOT_A_FILE" }));
  });

  test("a command of several: each offer carries the command, and a file that cannot be read is offered anyway and fails at once, so the receiver's count closes", async () => {
    const [a, b] = await pair();
    const command = { seq: 7, transfers: 2 };
    writeRandomFile(join(a.dir, "here.bin"), 1000);
    a.session?.sendFile(join(a.dir, "gone.bin"), undefined, command); // not thrown: promised
    a.session?.sendFile(join(a.dir, "here.bin"), undefined, command);
    const failed = await b.waitFor("failed");
    const finished = await b.waitFor("finished");
    expect(failed.info.command).toEqual(command);
    expect(failed.info.name).toBe("gone.bin");
    expect(finished.done.command).toEqual(command);
    expect((await a.waitFor("finished")).done.command).toEqual(command);
    expect(readdirSync(b.dir)).toEqual(["here.bin"]); // nothing under the name that did not come, no .part
  });

  test("a file that says it is empty but is not (/proc) is refused, not sent as 0 bytes", async () => {
    const [a] = await pair();
    expect(() => a.session?.sendFile("/proc/self/status")).toThrow(
      expect.objectContaining({ code: "E_NOT_A_FILE", message: expect.stringContaining("send it as a stream") }),
    );
  });
});

describe("leaving", () => {
  test("exit waits for a transfer in progress, then both sides close", async () => {
    const [a, b] = await pair();
    const bytes = writeRandomFile(join(a.dir, "big.bin"), 32 << 20);
    a.session?.sendFile(join(a.dir, "big.bin"));
    a.session?.exit();
    await a.waitFor("closed");
    await b.waitFor("peerLeft", (e) => e.reason === "exit");
    const received = await b.waitFor("finished");
    expect(received.done.bytes).toBe(bytes.length);
    expect(a.events.findIndex((e) => e.type === "finished")).toBeLessThan(
      a.events.findIndex((e) => e.type === "closed"),
    );
  });

  test("abort cancels transfers, tells the peer, and leaves no file on the receiver", async () => {
    const [a, b] = await pair();
    writeRandomFile(join(a.dir, "big.bin"), 64 << 20);
    a.session?.sendFile(join(a.dir, "big.bin"));
    await b.waitFor("started");
    a.session?.abort("interrupted");
    await b.waitFor("peerLeft", (e) => e.reason === "interrupted");
    await b.waitFor("failed");
    expect(readdirSync(b.dir)).toEqual([]);
  });
});

describe("connecting", () => {
  test("listening on a port that is taken says so", () => {
    const first = listen("127.0.0.1", 0, () => {});
    try {
      expect(() => listen("127.0.0.1", first.port, () => {})).toThrow(
        /cannot listen on 127\.0\.0\.1:\d+: the port is already in use/,
      );
    } finally {
      first.stop();
    }
  });

  test("both sides dialing at once end with exactly one connection", async () => {
    for (let round = 0; round < 5; round++) {
      const a = new TestPeer("alice");
      const b = new TestPeer("bob");
      peers.push(a, b);
      await Promise.all([a.dialTo(b), b.dialTo(a)]);
      const [sa, sb] = await Promise.all([a.waitForSession(), b.waitForSession()]);
      // Both kept the same connection: a chat line crosses it both ways.
      sa.sendChat("ping from a");
      sb.sendChat("ping from b");
      await b.waitFor("chat", (e) => e.text === "ping from a");
      await a.waitFor("chat", (e) => e.text === "ping from b");
      expect(a.events.some((e) => e.type === "lost")).toBe(false);
      expect(b.events.some((e) => e.type === "lost")).toBe(false);
      expect(sa.remoteAddress.split(":")[1] === String(b.listener.port) ? "a-dialed" : "b-dialed").toBe(
        sb.remoteAddress.split(":")[1] === String(a.listener.port) ? "b-dialed" : "a-dialed",
      );
    }
  });

  test.each([
    ["an HTTP request", Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "not a Parley peer"],
    ["random bytes", Buffer.from("a3f1000000ff0102", "hex"), "not a Parley peer"],
    ["a CHAT frame before HELLO", Buffer.from("00000003026869", "hex"), "not a Parley peer (no greeting)"],
  ])("%s is dropped and the listener still takes the real peer", async (_label, garbage, reason) => {
    // Seven bytes of a frame are no greeting a Parley peer reads: the CHAT frame is dropped as
    // silent. The listener's wait for a greeting is set to 500 ms here (FIRST_HELLO_MS, 2 s, at
    // most; the default is handshake-clock.test.ts's), so the case is reached sooner.
    const a = new TestPeer("alice", "sha256", { firstHelloMs: 500 });
    const b = new TestPeer("bob");
    peers.push(a, b);
    const closed = new Promise<void>((resolve) => {
      const s = connect(a.listener.port, "127.0.0.1", () => s.write(garbage));
      s.on("close", () => resolve());
      s.on("error", () => resolve());
    });
    await closed;
    const dropped = await a.waitFor("dropped");
    expect(dropped.reason).toContain(reason);
    await b.dialTo(a);
    await Promise.all([a.waitForSession(), b.waitForSession()]);
  });

  test("a third party is refused once connected", async () => {
    const [a] = await pair();
    const c = new TestPeer("carol");
    peers.push(c);
    await c.dialTo(a);
    await a.waitFor("dropped", (e) => e.reason.includes("already connected"));
    expect(a.session?.isOpen).toBe(true);
  });

  test("dialing our own port is refused with a reason", async () => {
    const a = new TestPeer("alice");
    peers.push(a);
    const conn = await dial("127.0.0.1", a.listener.port);
    await a.rendezvous.dialed(conn, a.codeWords);
    await a.waitFor("dropped", (e) => e.reason.includes("own port"));
    expect(a.session).toBeUndefined();
  });
});
