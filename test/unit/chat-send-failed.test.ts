/**
 * The chat's `transfer FILE` when the file cannot be offered after all (gone or changed between
 * the plan's look and the session's: another user renaming it in a shared folder): the error
 * names the path, whose escapes are made visible, as every other line naming a path does.
 */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChatWithPeer } from "../../src/cli/chat-connected.ts";
import type { Session } from "../../src/session/index.ts";
import { TransferError } from "../../src/transfer/errors.ts";
import { recordingTerminal } from "./helpers.ts";

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("a file gone when the session offers it: its Error line shows the name's escapes made visible", () => {
  const dir = mkdtempSync(join(tmpdir(), "parley-chat-send-"));
  made.push(dir);
  const file = join(dir, "r\x1b[2J\x1b]0;PWNED\x07.txt");
  writeFileSync(file, "hi");
  const lines: string[] = [];
  const chat = new ChatWithPeer(recordingTerminal(lines));
  // The session's own look at the file (send-offers.ts) found it gone: another user renamed it
  // away after the plan's look (seen 3 times in 300 tries with the real CLI, a name flipped in a loop).
  const session = {
    isOpen: true,
    sendFile(path: string) {
      throw new TransferError("E_NOT_FOUND", `no such file: ${path}`);
    },
  };
  chat.startTransfers(session as unknown as Session, `"${file}"`);
  // Before: the line was printed as it came, the screen cleared and the window retitled.
  expect(lines).toEqual([`Error: no such file: ${dir}/r^[[2J^[]0;PWNED^G.txt`]);
});
