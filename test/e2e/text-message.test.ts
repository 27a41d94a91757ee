/**
 * `parley send --text` into `parley receive`: the text is what the receive run is for, so its
 * human output shows all of it (made safe, as every peer text is), not cut at the chat's 4,000
 * characters with the rest lost. The chat keeps its bound (a flood of lines while typing).
 */

import { afterEach, expect, test } from "bun:test";
import { cleanup, makeTempDir, startCli } from "./helpers.ts";

afterEach(cleanup);

test("a 20,000-character --text arrives whole on the receiver's terminal", async () => {
  const receiver = startCli("receiver", ["receive", "--dir", makeTempDir()]);
  const { match } = await receiver.waitForLine(/· code (\d+-[a-z]+-[a-z]+)$/);
  const text = `${"0123456789".repeat(2000)}\x1b[31mend`;
  const sender = startCli("sender", ["send", "--text", text, "--to", match[1] as string]);
  expect(await sender.exitCode(), sender.describe()).toBe(0);
  expect(await receiver.exitCode(), receiver.describe()).toBe(0);
  const [line] = receiver.linesMatching(/^<peer> /);
  expect(line).toBe(`<peer> ${"0123456789".repeat(2000)}^[[31mend`);
});
