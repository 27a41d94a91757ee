/**
 * `parley receive --stdout` run in-process (injected io) against a plain wormhole client played
 * by the test (test/wormhole-peer-kit.ts): the client's text message goes to the command's own
 * stdout, not around it to the process's, and the rest of the run's lines to its stderr.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/cli.ts";
import { encodeOffer } from "../../src/protocol/index.ts";
import { useWormholeServers } from "../e2e/wormhole-kit.ts";
import { testIo } from "../in-process-io.ts";
import { closePeerKit, joinCode, untilMessage } from "../wormhole-peer-kit.ts";

const kit = useWormholeServers("receive --stdout in-process (test/integration/cli-in-process-mailbox.test.ts)");
const dirs: string[] = [];
afterEach(async () => {
  await closePeerKit();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!kit.available)("receive --stdout from a plain wormhole client, in-process", () => {
  test("its text message is written to the injected stdout, the waiting line to the injected stderr", async () => {
    const dir = mkdtempSync(join(tmpdir(), "parley-inproc-mailbox-"));
    dirs.push(dir);
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
