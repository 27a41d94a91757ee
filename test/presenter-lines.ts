/**
 * Test helper: a TransferPresenter that prints into an array (no terminal, no progress bars),
 * for tests of the transfer lines' words.
 */

import { TransferPresenter } from "../src/cli/transfer-presenter.ts";

export function linePresenter(): { lines: string[]; p: TransferPresenter } {
  const lines: string[] = [];
  const p = new TransferPresenter({
    print: (line) => lines.push(line),
    startProgress: () => {},
    updateProgress: () => {},
    endProgress: () => {},
  });
  return { lines, p };
}
