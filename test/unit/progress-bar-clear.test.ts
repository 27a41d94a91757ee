/**
 * send's and receive's progress bar on a terminal (stderr): drawn on one row with autowrap off,
 * the cursor left at its start, and cleared with ED 0 ("\x1b[0J", what node:readline's
 * clearScreenDown writes) before the next line or when the transfer ends.
 */

import { expect, test } from "bun:test";
import { makeReporter } from "../../src/cli/reporter.ts";
import type { TransferOutput } from "../../src/cli/transfer-words.ts";

test("a bar drawn on a terminal is cleared with ED 0 when its transfer ends, and only then", () => {
  const written: string[] = [];
  const terminal = { isTTY: true, columns: 80, write: (text: string | Uint8Array) => written.push(String(text)) > 0 };
  const quiet = { write: () => true };
  const reporter = makeReporter(
    { json: false, progress: true, stdoutTaken: false },
    { stdout: quiet, stderr: terminal },
  );
  const bars = reporter as unknown as TransferOutput;
  bars.startProgress(1, "-> a.bin", 1000);
  bars.updateProgress(1, 500);
  expect(written).toHaveLength(1);
  expect(written[0]).toStartWith("\x1b[?7l");
  expect(written[0]).toEndWith("\x1b[?7h\r");
  bars.endProgress(1);
  expect(written.slice(1)).toEqual(["\x1b[0J"]);
  bars.endProgress(1); // nothing drawn any more: nothing to clear
  expect(written).toHaveLength(2);
});
