/**
 * Issue 11 item 16: `parley send` declines every incoming offer. A hand-made peer with the
 * code offers a script to a listening `parley send`: the sender answers REJECT E_SEND_ONLY,
 * stores nothing in its folder, and its own file still goes out.
 */

import { afterEach, expect, test } from "bun:test";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, FrameType } from "../../src/protocol/index.ts";
import { rawParley } from "../raw-parley.ts";
import { cleanup, makeTempDir, PARLEY } from "./helpers.ts";

afterEach(cleanup);

test("11.16: a one-shot sender declines a file offered to it and stores nothing", async () => {
  const cwd = makeTempDir();
  const mine = join(makeTempDir(), "mine.bin");
  writeFileSync(mine, "mine");
  const sender = Bun.spawn([...PARLEY, "send", mine, "--json"], { cwd, stdout: "pipe", stderr: "pipe" });
  try {
    const reader = sender.stdout.getReader();
    let out = "";
    while (!/"code":"(\d+-[a-z]+-[a-z]+)"/.test(out)) out += new TextDecoder().decode((await reader.read()).value);
    const code = /"code":"(\d+)-([a-z]+-[a-z]+)"/.exec(out) as RegExpExecArray;
    const raw = await rawParley(Number(code[1]), { leader: true, words: code[2] as string });
    raw.send(encodeMessage({ kind: "offer", id: 1, name: "evil.sh", size: 5, algo: "xxh3", exec: true }));
    while (!raw.frames.some((f) => f.type === FrameType.Reject || f.type === FrameType.Accept)) await Bun.sleep(5);
    const reject = raw.frames.find((f) => f.type === FrameType.Reject);
    expect(JSON.parse(new TextDecoder().decode(reject?.payload))).toEqual({ id: 1, code: "E_SEND_ONLY" });
    expect(raw.frames.some((f) => f.type === FrameType.Accept)).toBe(false);
    expect(readdirSync(cwd)).toEqual([]);
    raw.socket.destroy();
  } finally {
    sender.kill(9);
  }
}, 30_000);
