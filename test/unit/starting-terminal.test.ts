/**
 * The starting terminal (src/ui/starting-terminal.ts): closed before its real terminal opened,
 * nothing opens that terminal afterwards (readline on stdin at the chat's end), and a peer's line
 * printed then is still written.
 */

import { expect, test } from "bun:test";
import { openTerminalSoon } from "../../src/ui/starting-terminal.ts";

test("closed before it opened: a peer's line, a pause, a bar and `interactive` open nothing; the line is written", async () => {
  const written: string[] = [];
  let opens = 0;
  const terminal = openTerminalSoon(
    { line() {}, end() {}, interrupt() {} },
    { progress: true, skippedLine: (n) => `${n} skipped`, tooLongLine: "too long" },
    () => {
      opens++;
      throw new Error("the real terminal was opened after close()");
    },
    (line) => written.push(line),
  );
  terminal.print("Listening on 127.0.0.1:40123 · code 40123-ribbon-walnut");
  await terminal.close();
  terminal.printFromPeer("<bob> late line");
  terminal.pauseInput();
  terminal.resumeInput();
  terminal.startProgress(1, "a.bin", 10);
  terminal.updateProgress(1, 5);
  terminal.endProgress(1);
  expect(terminal.interactive).toBe(false);
  // The next turn, when an open was due: still nothing opened.
  await new Promise((resolve) => setImmediate(resolve));
  expect(opens).toBe(0);
  expect(written).toEqual(["Listening on 127.0.0.1:40123 · code 40123-ribbon-walnut", "<bob> late line"]);
});
