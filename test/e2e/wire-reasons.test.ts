/**
 * Issue 11 item 10: what the peer is told about a failed transfer is a reason code plus a
 * path-free token. A hand-made peer records every frame it gets and looks for the other
 * side's folders, file paths and free-space figure in them.
 */

import { afterEach, expect, test } from "bun:test";
import { closeSync, ftruncateSync, openSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, type Frame, FrameType } from "../../src/protocol/index.ts";
import { cleanup, makeTempDir, rawLeaderInto, startPeer } from "./helpers.ts";

afterEach(cleanup);
const TEST_MS = 30_000;
const textOf = (f: Frame) => new TextDecoder().decode(f.payload);

async function frameOf(frames: Frame[], type: number): Promise<Frame> {
  for (;;) {
    const f = frames.find((x) => x.type === type);
    if (f) return f;
    await Bun.sleep(5);
  }
}

test(
  "11.10: a receiver short of space declines with a code: no download folder, no free bytes go to the peer",
  async () => {
    const b = await startPeer("bob");
    const raw = await rawLeaderInto(b);
    raw.send(encodeMessage({ kind: "offer", id: 1, name: "huge.img", size: 2 ** 50, algo: "xxh3" }));
    const reject = textOf(await frameOf(raw.frames, FrameType.Reject));
    expect(JSON.parse(reject)).toEqual({ id: 1, code: "E_NO_SPACE" });
    const { bavail, bsize } = statfsSync(b.dir);
    const everything = raw.frames.map(textOf).join("\n");
    expect(everything).not.toContain(b.dir);
    expect(everything).not.toContain("free");
    expect(everything).not.toContain(String(Number(bavail) * Number(bsize)).slice(0, 6));
    await b.cli.waitForLine(/^Receiving #1 huge\.img failed: declined: not enough space/);
  },
  TEST_MS,
);

test(
  "11.10: a sender whose file shrank cancels with a code: its absolute path does not go to the peer",
  async () => {
    const a = await startPeer("alice");
    const raw = await rawLeaderInto(a);
    const dir = join(makeTempDir(), "a-private-folder");
    require("node:fs").mkdirSync(dir);
    const path = join(dir, "shrinks.bin");
    writeFileSync(path, Buffer.alloc(1 << 20, 7));
    a.cli.send(`transfer ${path}`);
    await frameOf(raw.frames, FrameType.Offer);
    const fd = openSync(path, "r+");
    ftruncateSync(fd, 0);
    closeSync(fd);
    raw.send(encodeMessage({ kind: "accept", id: 2, offset: 0 }));
    const cancel = textOf(await frameOf(raw.frames, FrameType.Cancel));
    // The code and a fixed word for what happened (eea9133: the receiver says the file changed), no path.
    expect(JSON.parse(cancel)).toEqual({ id: 2, code: "E_READ", detail: "changed" });
    expect(raw.frames.map(textOf).join("\n")).not.toContain(dir);
    await a.cli.waitForLine(/^Sending #2 shrinks\.bin failed: .*shrank while it was being sent/);
  },
  TEST_MS,
);
