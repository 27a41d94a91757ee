/** holdDownloadFolder: the download folder held, or one E_WRITE line naming it and why (the session's sinks and folder targets both open it so). */

import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { holdDownloadFolder, TransferError } from "../../src/transfer/index.ts";
import { tempDirsRemovedAfterEach } from "../temp-dirs.ts";

const tempDir = tempDirsRemovedAfterEach("hold-download-");

test("a download folder that is there is held; one that is gone, or a file, is E_WRITE 'cannot open PATH: why'", () => {
  const dir = tempDir();
  const held = holdDownloadFolder(dir);
  expect(held.path).toBe(dir);
  held.release();
  for (const path of [join(dir, "gone"), join(dir, "a-file")]) {
    if (path.endsWith("a-file")) writeFileSync(path, "x");
    let err: unknown;
    try {
      holdDownloadFolder(path).release();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransferError);
    expect((err as TransferError).code).toBe("E_WRITE");
    expect((err as TransferError).message).toMatch(new RegExp(`^cannot open ${path}: \\S`));
  }
});
